"""Which administrative changes reach the administrators' trail, and who made them.

Accounts, roles, password resets, org units (mergers included), agencies and the calendar
are recorded wherever they are changed through the ORM, by any service present or
future: the session is inspected before each flush (`collect`, called by the trail's
sealing hook). Changes made with bulk SQL call `admin_event` themselves (a retried mail).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import g, has_request_context
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from caseflow.models import AdminEvent, Agency, CalendarDay, OrgUnit, User

# Columns whose change is an administrative act; the rest (failed sign-ins, the session
# generation, the language) are the account's own life. A password is recorded as changed,
# never by value.
WATCHED: dict[type, tuple[str, tuple[str, ...]]] = {
    User: (
        "user",
        ("email", "name", "role", "org_unit_id", "agency_id", "active", "password_hash", "totp_secret"),
    ),
    OrgUnit: (
        "org_unit",
        ("code", "name", "level", "abbrev", "parent_id", "path", "valid_from", "valid_to", "successor_id"),
    ),
    Agency: ("agency", ("code", "name", "kind", "org_unit_id", "email")),
    CalendarDay: ("calendar", ("day", "kind", "name")),
}
SECRET_COLUMNS = ("password_hash", "totp_secret")


def _actor() -> tuple[int | None, str]:
    if not has_request_context():
        return None, "cli"
    user = g.get("api_user") or g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False) and getattr(user, "id", None):
        return user.id, user.email
    return None, "anonymous"


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _target(kind: str, obj: object) -> str:
    key = {"user": "email", "calendar": "day"}.get(kind, "code")
    return f"{kind}:{_plain(getattr(obj, key, None))}"


def _changes(obj: object, columns: tuple[str, ...], new: bool) -> dict:
    state = inspect(obj)
    out = {}
    for name in columns:
        if name not in state.attrs:
            continue
        history = state.attrs[name].history
        if new or history.has_changes():
            value = state.attrs[name].value
            if new and value is None:
                continue
            out[name] = "(changed)" if name in SECRET_COLUMNS else _plain(value)
    return out


def collect(session: Session) -> None:
    """Add an AdminEvent for each watched row created, changed or deleted in this flush."""
    pending: list[AdminEvent] = []
    for verb, objects in (("created", session.new), ("changed", session.dirty), ("deleted", session.deleted)):
        for obj in objects:
            watched = WATCHED.get(type(obj))
            if watched is None:
                continue
            kind, columns = watched
            data = {} if verb == "deleted" else _changes(obj, columns, verb == "created")
            if verb == "changed" and not data:
                continue
            if kind == "user" and verb == "changed" and list(data) == ["password_hash"]:
                action = "user.password_changed"
            else:
                action = f"{kind}.{verb}"
            pending.append(_event(action, _target(kind, obj), data))
    for event in pending:
        session.add(event)


def _event(action: str, target: str | None, data: dict, actor: User | None = None) -> AdminEvent:
    from caseflow.models.types import utcnow

    actor_id, label = (actor.id, actor.email) if actor is not None else _actor()
    return AdminEvent(
        at=utcnow(), actor_id=actor_id, actor_label=label, action=action, target=target, data=data
    )


def admin_event(
    session: Session, action: str, target: str | None = None, actor: User | None = None, **data: Any
) -> None:
    """Record an administrative act made without the ORM (bulk SQL); it commits with the act.
    `actor`: who did it, when not the signed-in user (someone signing in with a recovery code)."""
    session.add(_event(action, target, {k: _plain(v) for k, v in data.items()}, actor))
