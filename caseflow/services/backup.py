"""A consistent copy of the database and the attachment files, and its restore into an empty database.

A backup is a folder: the database (SQLite's online backup API, or `pg_dump -Fc` taken in one
snapshot), a copy of the attachments, and `manifest.json` with the schema revision, the row count
of every table and the SHA-256 of every file. Restore checks all of it before touching anything,
refuses a database that already holds cases or users and a backup from a newer schema, and checks
the counts again afterwards. The data key (CASEFLOW_DATA_KEY or its key file) is NOT in a
backup: keep it apart, or the identities in a restored database cannot be read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import Connection, Engine, create_engine, func, inspect, select, text
from sqlalchemy.engine import URL, make_url

from caseflow.database import driver_url
from caseflow.extensions import db

FORMAT = 1
MANIFEST = "manifest.json"
# Rows the schema itself brings (init-db seeds the calendar): a database holding only these is empty.
SEED_TABLES = frozenset({"alembic_version", "calendar_days"})


class BackupError(RuntimeError):
    """The backup cannot be made or restored; the message says why, nothing was changed."""


def attachments_dir() -> Path:
    configured = current_app.config.get("CASEFLOW_ATTACHMENTS_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "attachments"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _counts(connection: Connection) -> dict[str, int]:
    tables = sorted(inspect(connection).get_table_names())
    return {name: connection.scalar(select(func.count()).select_from(text(f'"{name}"'))) for name in tables}


def _revision(connection: Connection) -> str | None:
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    return connection.scalar(text("SELECT version_num FROM alembic_version"))


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore; the password goes by environment, never argv."""
    args = ["--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _pg_tool(name: str) -> str:
    """The full path of pg_dump/pg_restore (CASEFLOW_PG_BIN, else PATH): the server's own
    major version must not be older than the dump's."""
    folder = current_app.config.get("CASEFLOW_PG_BIN")
    found = str(Path(folder) / name) if folder else shutil.which(name)
    if not found or not Path(found).is_file():
        raise BackupError(f"{name} not found: install postgresql-client or set CASEFLOW_PG_BIN")
    return found


def backup(target: Path, engine: Engine | None = None) -> dict[str, Any]:
    """Write a backup into `target` (a new or empty folder) and return its manifest."""
    engine = engine or db.engine
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty")
    target.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    if engine.dialect.name == "sqlite":
        dump = target / "database.sqlite"
        source = sqlite3.connect(engine.url.database)
        try:
            with sqlite3.connect(dump) as copy:
                source.backup(copy)  # a consistent copy while others keep writing
        finally:
            source.close()
        check = create_engine(f"sqlite:///{dump}")
        with check.connect() as connection:
            counts, revision = _counts(connection), _revision(connection)
        check.dispose()
    elif engine.dialect.name == "postgresql":
        dump = target / "database.dump"
        args, env = _libpq(engine.url)
        with engine.connect() as connection:
            # One snapshot for the counts and pg_dump, so the manifest describes the dump exactly.
            connection.execute(text("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
            counts, revision = _counts(connection), _revision(connection)
            result = subprocess.run(  # noqa: S603 - an argument list, no shell
                [
                    _pg_tool("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    f"--snapshot={snapshot}",
                    "--file",
                    str(dump),
                    *args,
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            connection.execute(text("COMMIT"))
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    else:  # pragma: no cover - CaseFlow runs on these two
        raise BackupError(f"no backup for {engine.dialect.name}")
    files[dump.name] = _sha256(dump)
    source_files = attachments_dir()
    if source_files.is_dir():
        shutil.copytree(source_files, target / "attachments")
    for path in sorted((target / "attachments").rglob("*")) if (target / "attachments").exists() else []:
        if path.is_file():
            files[path.relative_to(target).as_posix()] = _sha256(path)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "backend": engine.dialect.name,
        "schema_revision": revision,
        "counts": counts,
        "files": files,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


def read_manifest(source: Path) -> dict[str, Any]:
    """The manifest, with every file it names present and unchanged."""
    path = Path(source) / MANIFEST
    if not path.is_file():
        raise BackupError(f"{source} has no {MANIFEST}: not a CaseFlow backup")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')} is not {FORMAT}")
    for name, digest in manifest["files"].items():
        file = Path(source) / name
        if not file.is_file() or _sha256(file) != digest:
            raise BackupError(f"{name} is missing or changed since the backup was made")
    return manifest


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    config = current_app.extensions["migrate"].migrate.get_config()
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


def _holds_data(connection: Connection) -> list[str]:
    counts = _counts(connection)
    return sorted(name for name, count in counts.items() if count and name not in SEED_TABLES)


def restore(source: Path, url: str | None = None) -> dict[str, Any]:
    """Restore the backup in `source` into the database at `url` (default: the app's), which
    must hold no data; then put the attachments in place."""
    source = Path(source)
    manifest = read_manifest(source)
    revision = manifest["schema_revision"]
    if revision is not None and revision not in _known_revisions():
        raise BackupError(
            f"the backup's schema ({revision}) is newer than this CaseFlow: upgrade CaseFlow first"
        )
    target_url = make_url(driver_url(url)) if url else db.engine.url
    if target_url.get_backend_name() != manifest["backend"]:
        raise BackupError(
            f"a {manifest['backend']} backup cannot be restored into {target_url.get_backend_name()}"
        )
    engine = create_engine(target_url)
    try:
        with engine.connect() as connection:
            occupied = _holds_data(connection)
        if occupied:
            raise BackupError(
                f"the database is not empty (rows in {', '.join(occupied)}); restore needs an empty one"
            )
        files = attachments_dir()
        if files.exists() and any(files.iterdir()):
            raise BackupError(f"the attachment folder {files} is not empty")
        if manifest["backend"] == "sqlite":
            with (
                sqlite3.connect(source / "database.sqlite") as backup_db,
                sqlite3.connect(target_url.database) as live,
            ):
                backup_db.backup(live)
        else:
            args, env = _libpq(target_url)
            result = subprocess.run(  # noqa: S603 - an argument list, no shell
                [
                    _pg_tool("pg_restore"),
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--exit-on-error",
                    *args,
                    str(source / "database.dump"),
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
        engine.dispose()
        with engine.connect() as connection:
            restored = _counts(connection)
        different = {name for name, count in manifest["counts"].items() if restored.get(name) != count}
        if different:
            raise BackupError(
                f"restored row counts differ from the manifest in {', '.join(sorted(different))}"
            )
        if (source / "attachments").is_dir():
            files.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(source / "attachments", files, dirs_exist_ok=True)
    finally:
        engine.dispose()
    return manifest


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups in `folder`; return what was deleted."""
    backups = sorted(p for p in Path(folder).iterdir() if (p / MANIFEST).is_file())
    doomed = backups[:-keep] if keep > 0 else backups
    for path in doomed:
        shutil.rmtree(path)
    return doomed


def scheduled_backup() -> Path:
    """The worker's periodic backup: a new folder under CASEFLOW_BACKUP_DIR, then prune to
    CASEFLOW_BACKUP_KEEP copies."""
    folder = Path(current_app.config["CASEFLOW_BACKUP_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / datetime.now(UTC).strftime("caseflow-%Y%m%dT%H%M%S.%fZ")
    backup(target)
    prune(folder, int(current_app.config["CASEFLOW_BACKUP_KEEP"]))
    return target
