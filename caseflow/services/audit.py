"""The one writer of the audit trail: every event of a case (Decree 56 Art. 33) is built here.

Transitions, reads, notes, task completion, escalation, email actions and documents all
record through these functions, so the shape of an event (who, when, what, JSON-safe data)
is decided once. A transition holds its events as plain rows and writes them in one INSERT
(`insert_rows`); everything else adds one event to the session (`add`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import insert

from caseflow.extensions import db
from caseflow.models import Agency, CaseEvent, OrgUnit, User
from caseflow.models.types import utcnow
from caseflow.services import audit_chain

# Built once: building and keying a statement anew costs as much CPU as running it.
_INSERT_EVENTS = insert(CaseEvent.__table__)


def event_row(
    case_id: int | None,
    kind: str,
    *,
    at: datetime | None = None,
    actor: User | None = None,
    actor_label: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    data: dict | None = None,
) -> dict[str, Any]:
    """An event as a plain row of `case_events`, its data made JSON-safe."""
    return {
        "case_id": case_id,
        "at": at or utcnow(),
        "actor_id": actor.id if actor is not None else None,
        "actor_label": actor_label,
        "kind": kind,
        "from_state": from_state,
        "to_state": to_state,
        "data": jsonable(data or {}),
    }


def add(case_id: int | None, kind: str, **kwargs: Any) -> CaseEvent:
    """Add one event to the session (written with the caller's transaction); see `event_row`."""
    event = CaseEvent(**event_row(case_id, kind, **kwargs))
    db.session.add(event)
    return event


def insert_rows(rows: list[dict[str, Any]]) -> None:
    """Write events built by `event_row` in one INSERT, in the order given."""
    if rows:
        audit_chain.seal_rows(db.session, rows)  # the chain's hashes, the case's head read once
        db.session.connection().execute(_INSERT_EVENTS, rows)


def jsonable(data: dict) -> dict:
    """Event data as JSON can keep it: moments as ISO 8601, communes and agencies by code."""
    out = {}
    for key, value in data.items():
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, OrgUnit | Agency):
            value = value.code
        out[key] = value
    return out


__all__ = ["add", "event_row", "insert_rows", "jsonable"]
