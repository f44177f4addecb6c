"""Per-backend engine settings (SQLite needs WAL and a busy timeout to take concurrent
writers), and `insert_loaded`, which writes new rows without the ORM's unit of work."""

from __future__ import annotations

import functools
from typing import TypeVar

from flask import Flask
from sqlalchemy import Insert, Table, event, insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, make_transient_to_detached

M = TypeVar("M")


def driver_url(uri: str) -> str:
    """The URL with the driver CaseFlow installs: a plain `postgresql://` means psycopg 3 here,
    where SQLAlchemy 2.0 would reach for psycopg2 (not installed)."""
    if uri.startswith("postgresql://"):
        return "postgresql+psycopg://" + uri[len("postgresql://") :]
    return uri


def configure(app: Flask) -> None:
    uri: str = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
    else:
        options.setdefault("pool_pre_ping", True)
    app.config["SQLALCHEMY_DATABASE_URI"] = driver_url(uri)
    if uri.startswith("postgresql"):
        _cache_multi_row_inserts()
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


# Parameters up to which psycopg keeps a statement's conversion to PostgreSQL's $n placeholders.
# Its default, 50, leaves out the multi-row INSERTs of a transition's tasks and mails (a few
# rows of a dozen columns each, the same few shapes every time), so it parsed them afresh on
# every transition, at a cost close to running them. Bounded: a scan's batch of hundreds of
# rows still goes uncached, and psycopg's cache keeps at most 128 statements.
MULTI_ROW_PARAMS = 200


def _cache_multi_row_inserts() -> None:
    from psycopg import _queries

    if getattr(_queries, "MAX_CACHED_STATEMENT_PARAMS", MULTI_ROW_PARAMS) < MULTI_ROW_PARAMS:
        _queries.MAX_CACHED_STATEMENT_PARAMS = MULTI_ROW_PARAMS


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # noqa: ANN001
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def insert_loaded(session: Session, model: type[M], rows: list[dict]) -> list[M]:
    """INSERT `rows` in one statement and return them as persistent, fully loaded objects.

    A flush of new objects walks the unit of work (dependencies, cascades, history): for the
    two or three tasks a transition makes, that cost more CPU than all of its SQL. Each row
    must give every column but the integer primary key, so that reading an attribute of the
    object later never goes back to the database. Relationships are left unloaded: set them
    with `sqlalchemy.orm.attributes.set_committed_value`.
    """
    if not rows:
        return []
    table = model.__table__  # type: ignore[attr-defined]
    (key,) = table.primary_key.columns
    ids = session.scalars(_insert_returning_key(table), rows).all()
    loaded = []
    for new_id, row in zip(ids, rows, strict=True):
        obj = model(**row, **{key.key: new_id})
        make_transient_to_detached(obj)  # as if just read: no pending changes, nothing to flush
        session.add(obj)
        loaded.append(obj)
    return loaded


@functools.cache
def _insert_returning_key(table: Table) -> Insert:
    # Built once per table: building and keying a statement anew costs as much CPU as running it.
    (key,) = table.primary_key.columns
    return insert(table).returning(key, sort_by_parameter_order=True)
