"""`flask --app wsgi caseflow ...`: set up the database, add users, seed the demo."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from caseflow.extensions import db

group = AppGroup("caseflow", help="CaseFlow administration.")


@group.command("init-db")
def init_db() -> None:
    """Apply the migrations and load the shipped holiday calendar."""
    from flask_migrate import upgrade

    from caseflow.seed_calendar import seed_calendar

    upgrade()
    added = seed_calendar()
    click.echo(f"Database ready; {added} calendar days added.")


@group.command("refresh-calendar")
def refresh_calendar() -> None:
    """Bring the national holidays up to date from the holiday library; administrators' days stay."""
    from caseflow.seed_calendar import calendar_years, refresh_calendar

    stats = refresh_calendar()
    years = calendar_years()
    click.echo(f"Calendar {years.start}-{years.stop - 1}: " + ", ".join(f"{k} {v}" for k, v in stats.items()))


@group.command("merge-unit")
@click.argument("code")
@click.option("--into", "into", required=True, help="Code of the unit that takes it over.")
@click.option("--on", "on", required=True, help="The day the merger takes effect (YYYY-MM-DD).")
def merge_unit(code: str, into: str, on: str) -> None:
    """Merge an org unit into its successor (2025 reform): open cases, tasks, agencies, users move."""
    from caseflow.services.errors import DomainError
    from caseflow.services.mergers import merge_unit as merge

    try:
        result = merge(code, {"into": into, "on": on})
    except DomainError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        raise click.ClickException(f"{exc.message}. {details}".strip(". ")) from exc
    moved = result.to_json()["moved"]
    click.echo(f"{code} merged into {into} from {on}: " + ", ".join(f"{k} {v}" for k, v in moved.items()))


@group.command("create-user")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True)
@click.option("--name", required=True)
@click.option("--org-unit", default=None)
@click.option("--agency", default=None)
@click.option("--locale", default="vi")
def create_user(
    email: str, password: str, role: str, name: str, org_unit: str | None, agency: str | None, locale: str
) -> None:
    """Add a user (the first admin, or anyone when scripting)."""
    from caseflow.services.errors import DomainError
    from caseflow.services.reference import create_user as create

    try:
        user = create(
            {
                "email": email,
                "password": password,
                "role": role,
                "name": name,
                "org_unit": org_unit,
                "agency": agency,
                "locale": locale,
            }
        )
    except DomainError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        raise click.ClickException(f"{exc.message}. {details}") from exc
    click.echo(f"Created {user.role} {user.email}")


@group.command("seed-demo")
def seed_demo() -> None:
    """Lạng Sơn demo data: units, agencies, a user per role and some thirty cases."""
    from caseflow.demo import seed

    for line in seed():
        click.echo(line)


@group.command("demo")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def demo(host: str, port: int) -> None:
    """Serve CaseFlow on the embedded default (no Redis, no mail server)."""
    from flask import current_app

    if not current_app.config.get("REDIS_URL"):
        # No Redis means no worker and no RQ scheduler: the overdue scan runs in this process.
        from caseflow.notifications.escalation import start_background_scanner

        start_background_scanner(
            current_app._get_current_object(), current_app.config["SCAN_INTERVAL_SECONDS"]
        )
    # Flask refuses app.run() inside its own CLI; werkzeug's threaded server is what it would use.
    from werkzeug.serving import run_simple

    click.echo(f"CaseFlow demo on http://{host}:{port}  (mail written to {current_app.instance_path}/mail/)")
    run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)


@group.command("escalate")
def escalate() -> None:
    """Run one overdue scan now: warnings, the escalation ladder, digests, the outbox sweep."""
    from caseflow.notifications.escalation import run_scan

    stats = run_scan()
    click.echo(", ".join(f"{k}: {v}" for k, v in stats.items()))


@group.command("worker")
@click.option("--queues", default="mail,scan,documents", help="Short queue names, comma-separated.")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--cron/--no-cron", default=True, help="Also enqueue the periodic scan (RQ CronScheduler).")
@click.option("--fork/--no-fork", default=True, help="A work horse per job (default), or jobs in-process.")
def worker(queues: str, burst: bool, cron: bool, fork: bool) -> None:
    """An RQ worker with the app context on the mail, scan and documents queues (REDIS_URL required)."""
    from flask import current_app

    from caseflow.worker import run_worker

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: without Redis, mail is sent in-process")
    run_worker(
        current_app._get_current_object(),
        [q.strip() for q in queues.split(",") if q.strip()],
        burst=burst,
        cron=cron,
        fork=fork,
    )


@group.command("check-workflow")
@click.option(
    "--apply-renames", is_flag=True, help="Move cases and tasks to the names the file's renamed: gives."
)
def check_workflow(apply_renames: bool) -> None:
    """Check the states and task templates in the database against the workflow file."""
    from caseflow.services import workflow_check
    from caseflow.workflow import current_engine

    definition = current_engine().definition
    if apply_renames:
        for what, rows in workflow_check.apply_renames(definition).items():
            click.echo(f"Moved {rows}: {what}")
    problems = workflow_check.check(definition)
    for problem in problems:
        click.echo(problem.describe(definition.path), err=True)
    if problems:
        raise SystemExit(1)
    click.echo(f"The database agrees with {definition.path} ({definition.name} {definition.version}).")


@group.command("check-config")
@click.option("--demo", is_flag=True, help="This is a demo: the embedded defaults are fine.")
def check_config(demo: bool) -> None:
    """Refuse a production start on demo settings (no SECRET_KEY, SQLite, mail to files...)."""
    from flask import current_app

    from caseflow.services.config_check import check_production

    findings = [] if demo else check_production(current_app.config)
    for finding in findings:
        click.echo(
            f"{'ERROR' if finding.fatal else 'warning'}: {finding.setting}: {finding.problem}", err=True
        )
    if any(f.fatal for f in findings):
        raise click.ClickException("not fit for production; fix the settings above, or pass --demo")
    click.echo("Settings fit for production." if not demo else "Demo settings accepted.")


@group.command("backup")
@click.argument("path", type=click.Path(file_okay=False))
def backup(path: str) -> None:
    """Copy the database and the attachments into PATH (a new folder), with a manifest."""
    from caseflow.services.backup import BackupError
    from caseflow.services.backup import backup as make_backup

    try:
        manifest = make_backup(path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = sum(manifest["counts"].values())
    click.echo(
        f"Backup in {path}: schema {manifest['schema_revision']}, {rows} rows, {len(manifest['files'])} files."
    )


@group.command("restore")
@click.argument("path", type=click.Path(exists=True, file_okay=False))
def restore(path: str) -> None:
    """Restore a backup made by `backup` into this (empty) database and attachment folder."""
    from caseflow.services.backup import BackupError
    from caseflow.services.backup import restore as restore_backup

    db.engine.dispose()  # restore writes through connections of its own
    try:
        manifest = restore_backup(path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Restored {path}: schema {manifest['schema_revision']}, {sum(manifest['counts'].values())} rows."
    )


def init_app(app: Flask) -> None:
    from caseflow import security_cli  # verify-audit, rotate-key, retention

    for command in security_cli.commands.commands.values():
        group.add_command(command)
    app.cli.add_command(group)


__all__ = ["db", "group", "init_app"]
