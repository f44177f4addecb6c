"""`flask caseflow verify-audit`, `audit-anchor`, `rotate-key`, `retention` and `recovery-codes`:
the operator's security commands."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from caseflow.extensions import db

# Registered on `flask caseflow` by caseflow.cli (this module never imports the CLI back).
commands = AppGroup("caseflow-security")


@commands.command("verify-audit")
@click.option(
    "--anchor",
    "anchor_file",
    type=click.Path(dir_okay=False),
    help="An anchor file (audit-anchor): also check that every head it anchored is still in the trail.",
)
def verify_audit(anchor_file: str | None) -> None:
    """Check every case's trail and the administrators' chain; exit 1 naming the first break.
    With --anchor, a tail rewritten consistently before the last anchor is found too."""
    from caseflow.services.audit_anchor import AnchorError, check_anchor
    from caseflow.services.audit_chain import verify, verify_admin

    breaks = list(verify(db.session))
    admin = verify_admin(db.session)
    if admin is not None:
        breaks.append(admin)
    anchored = None
    if anchor_file:
        try:
            anchored, gone = check_anchor(db.session, anchor_file)
        except AnchorError as exc:
            click.echo(f"BROKEN the anchor file {anchor_file}: {exc}", err=True)
            sys.exit(1)
        # The anchor's findings first: a consistent rewrite shows nowhere else.
        breaks = gone + breaks
    if not breaks:
        click.echo("The audit trails are intact.")
        if anchored is not None:
            click.echo(
                f"Every head of the {anchored.lines} anchor(s) in {anchor_file} is in the trail; "
                f"the last anchor: {anchored.last_at}, digest {anchored.last_digest}."
            )
        return
    for found in breaks:
        click.echo(f"BROKEN {found}", err=True)
    click.echo(f"{len(breaks)} trail(s) broken; the first: {breaks[0]}", err=True)
    sys.exit(1)


@commands.command("audit-anchor")
@click.option("--dir", "folder", type=click.Path(file_okay=False), help="Instead of CASEFLOW_ANCHOR_DIR.")
def audit_anchor(folder: str | None) -> None:
    """Append the head of every trail, signed with the anchor key, to the anchor file."""
    from caseflow.services.audit_anchor import AnchorError, write_anchor

    try:
        written = write_anchor(db.session, folder)
    except AnchorError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Anchor {written.number} in {written.path}: {written.cases} case trail(s), {written.changed} moved "
        f"since the last; digest {written.digest}"
    )


@commands.command("rotate-key")
@click.option("--new-key/--no-new-key", default=True, help="Add a new current key to the key file first.")
def rotate_key(new_key: bool) -> None:
    """Re-encrypt every protected value under the current data key (after adding a new one to
    the key file, unless --no-new-key: then the first key of CASEFLOW_DATA_KEY is current)."""
    from caseflow.services.rotation import add_key_to_file, reencrypt_all

    if new_key:
        if current_app.config.get("CASEFLOW_DATA_KEY"):
            raise click.ClickException(
                "The keys come from CASEFLOW_DATA_KEY: put the new key first there and run with --no-new-key"
            )
        kid = add_key_to_file(current_app._get_current_object())
        click.echo(
            f"New data key {kid} added to {current_app.config.get('CASEFLOW_DATA_KEY_FILE') or 'instance/data_key'}"
        )
    counts = reencrypt_all()
    click.echo(", ".join(f"{name}: {n}" for name, n in counts.items()))


@commands.command("retention")
@click.option("--dry-run", is_flag=True, help="List the cases that would be anonymised; change nothing.")
def retention(dry_run: bool) -> None:
    """Anonymise closed cases past CASEFLOW_RETENTION_YEARS: identity and free text go, the
    statistics stay, the trail keeps its chain."""
    from caseflow.services.personal_data import anonymise_due, retention_years

    done = anonymise_due(dry_run=dry_run)
    verb = "would be anonymised" if dry_run else "anonymised"
    click.echo(
        f"{len(done)} case(s) closed over {retention_years():g} years ago {verb}"
        + (": " + ", ".join(done) if done else "")
    )


@commands.command("recovery-codes")
@click.argument("email")
def recovery_codes(email: str) -> None:
    """Print a new set of one-time recovery codes for a user with an authenticator app (the old
    set stops working; the new one is on the administrators' trail, by count only)."""
    from sqlalchemy import select

    from caseflow.models import User
    from caseflow.services import two_factor

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {email}")
    try:
        codes = two_factor.regenerate_for(user)
    except ValueError as exc:
        raise click.ClickException(f"{email}: {exc}") from exc
    click.echo(f"New recovery codes for {user.email} (each works once; the old ones no longer do):")
    for code in codes:
        click.echo(f"  {code}")
