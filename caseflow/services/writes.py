"""The one write path for cases and tasks: versioned UPDATEs, and the transaction around them.

A case and each task carry a version; every change to them is an UPDATE on the condition
that the row is still the version the writer loaded, so of two concurrent writers one wins
and the other gets a 409 with nothing written. Transitions, task completion, handover and
emailed actions all write through `Changes`; the statements are built once per set of
columns (building and keying them anew cost as much CPU as running them).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Table, Update, bindparam, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from caseflow.extensions import db
from caseflow.models import Case, Task
from caseflow.services.errors import Conflict


class Changes:
    """Changed rows (the case, its tasks) and their new values, until `write` sends them."""

    def __init__(self) -> None:
        self._rows: dict[Case | Task, dict[str, Any]] = {}

    def change(self, row: Case | Task, **values: Any) -> None:
        """Set attributes of the case or of one of its tasks, to be written by `write`.

        The loaded object takes the values at once, as if read from the database, so the
        rest of the change and the response see them; the ORM's unit of work never sees
        them (for a transition it cost more CPU than the statements it sent). Give a
        relationship together with its column: `change(case, residence_commune=unit,
        residence_commune_id=unit.id)`.
        """
        for name, value in values.items():
            set_committed_value(row, name, value)
        self._rows.setdefault(row, {}).update(values)

    def write(self, now: datetime) -> None:
        """One UPDATE per changed row, the case first, each bumping the row's version on the
        condition that it is still the version loaded: a row changed meanwhile by another
        request fails the change (StaleDataError, a 409 from `case_write`)."""
        rows = sorted(self._rows.items(), key=lambda item: not isinstance(item[0], Case))
        self._rows = {}
        # Plain statements on the session's connection: no object of the session is theirs to
        # flush first, and the session's own execute costs a fifth more per statement.
        connection = db.session.connection() if rows else None
        for row, values in rows:
            table = type(row).__table__
            version = "version" if isinstance(row, Case) else "row_version"
            loaded = getattr(row, version)
            columns = {name: value for name, value in values.items() if name in table.c}
            columns[version] = loaded + 1
            if isinstance(row, Case):
                columns["updated_at"] = now
            statement = _versioned_update(table, version, frozenset(columns))
            params = {f"new_{name}": value for name, value in columns.items()}
            result = connection.execute(statement, {**params, "_id": row.id, "_loaded": loaded})
            if result.rowcount != 1:
                raise StaleDataError(f"{table.name} {row.id} changed since it was loaded")
            set_committed_value(row, version, loaded + 1)
            if isinstance(row, Case):
                set_committed_value(row, "updated_at", now)


@functools.cache
def _versioned_update(table: Table, version: str, columns: frozenset[str]) -> Update:
    """UPDATE of these columns of one row, on the condition that its version is the one loaded."""
    return (
        update(table)
        .where(table.c.id == bindparam("_id"), table.c[version] == bindparam("_loaded"))
        .values({name: bindparam(f"new_{name}", type_=table.c[name].type) for name in sorted(columns)})
    )


@contextmanager
def case_write() -> Iterator[None]:
    """Run a change and commit it; on any failure roll everything back.

    A lost optimistic-lock race (another request changed the case first) becomes a
    409 with nothing written. Autoflush can hit the race before the commit, so the
    whole block is guarded, not only the commit.
    """
    try:
        yield
        db.session.commit()
    except StaleDataError as exc:
        db.session.rollback()
        raise Conflict.because("concurrent_change") from exc
    except OperationalError as exc:
        db.session.rollback()
        if "locked" in str(exc.orig):  # SQLite: the other writer held the file past the busy timeout
            raise Conflict.because("busy") from exc
        raise
    except BaseException:
        db.session.rollback()
        raise


__all__ = ["Changes", "case_write"]
