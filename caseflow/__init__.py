"""CaseFlow: the Decree 56/2017 child-protection case workflow. `create_app` builds the app."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from caseflow.resources import (
    PACKAGE_DIR,
    SOURCE_ROOT,
    compile_catalogs,
    default_instance_path,
    load_config_class,
    resource_dir,
    resource_root,
)


def _instance_secret(path: Path) -> str:
    """A per-installation random key, never a shared default that would let anyone forge
    sessions or emailed action links."""
    try:  # O_EXCL: of several processes starting at once, exactly one writes the key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        # A source checkout keeps its data in instance/ beside the code; an installed package
        # in Flask's own place for it ($PREFIX/var/caseflow-instance), or where the setting says.
        instance_path=os.environ.get("CASEFLOW_INSTANCE_PATH") or default_instance_path(),
        template_folder=str(resource_dir("templates")),
        static_folder=str(PACKAGE_DIR / "static"),
    )
    app.config.from_object(load_config_class())
    if resource_root() == SOURCE_ROOT:
        compile_catalogs(PACKAGE_DIR / "translations", only_stale=True)  # never English by accident
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path) / "secret_key")
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        # The embedded default: one SQLite file, no server to start.
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'caseflow.db'}"

    from caseflow import (
        actions,
        api,
        cli,
        crypto,
        database,
        health,
        logs,
        metrics,
        security,
        web,
        workflow,
    )
    from caseflow.extensions import babel, csrf, db, mail, migrate
    from caseflow.jobs import dispatch
    from caseflow.services import document_cache, outbox

    logs.init_app(app)  # first: JSON lines and request ids for everything after
    crypto.init_app(app)  # the data keys, from the setting or instance/data_key: before any row is read
    database.configure(app)  # engine options per backend (SQLite WAL and busy timeout)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(resource_dir("migrations")))
    mail.init_app(app)
    csrf.init_app(app)
    babel.init_app(app)
    import caseflow.services.effects  # noqa: F401 - registers the effects and guards the file names

    workflow.init_app(app)  # loads and validates the procedure file: fails fast if it is wrong
    api.init_app(app)
    web.init_app(app)  # HTML pages: sign-in, my work, cases, supervision, admin
    health.init_app(app)
    metrics.init_app(app)  # /metrics for Prometheus: token or loopback only
    # Outbox rows leave after their transaction commits, through the job queue's senders.
    outbox.init_app(app, send=dispatch.send, send_digests=dispatch.send_digests)
    # A saved form's documents are laid out by the worker before anyone downloads them.
    document_cache.init_app(app, prerender=dispatch.prerender)
    actions.init_app(app)  # signed single-use links in agency mails
    security.init_app(app)  # rate limits, proxy headers, security headers, boundary checks
    cli.init_app(app)
    return app


def _register_factory() -> None:
    """Let a job that RQ runs without an app (a plain `rq worker`) build one, without the jobs
    importing this package back."""
    from caseflow.jobs import queue

    queue.APP_FACTORY = create_app


_register_factory()
