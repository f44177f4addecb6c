"""Writing notifications into the outbox, in the caller's transaction.

Delivery is somebody else's job (caseflow.notifications): rows written here are
sent after the commit, so a rolled-back change never mails anyone.
"""

from __future__ import annotations

from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import Agency, Case, Notification, Task, User


def queue(
    kind: str,
    recipient: str,
    *,
    case: Case | None = None,
    task: Task | None = None,
    level: int = 0,
    locale: str = "vi",
    dedupe: str | None = None,
    context: dict | None = None,
    fresh: bool = False,
) -> Notification | None:
    """Add one outgoing mail. `dedupe` makes it at-most-once: a second row with the same
    key is refused by a unique index, whatever process tries. `fresh`: the key names a
    task created in this transaction, so no row can hold it yet and the look-up is skipped."""
    key = dedupe or f"{kind}:{case.id if case else '-'}:{task.id if task else '-'}:{level}:{recipient}"
    if not fresh and db.session.scalar(select(Notification.id).where(Notification.dedupe_key == key)):
        return None
    row = Notification(
        dedupe_key=key[:200],
        kind=kind,
        case_id=case.id if case else None,
        task_id=task.id if task else None,
        level=level,
        recipient=recipient,
        locale=locale,
        context=context or {},
        status="pending",
    )
    db.session.add(row)
    return row


def queue_for_agency(kind: str, agency: Agency, **kwargs) -> Notification | None:  # noqa: ANN003
    return queue(kind, agency.email, locale=agency.locale or "vi", **kwargs)


def queue_for_users(kind: str, users: list[User], **kwargs) -> list[Notification]:  # noqa: ANN003
    rows = [queue(kind, u.email, locale=u.locale or "vi", **kwargs) for u in users if u.active]
    return [r for r in rows if r is not None]


def commune_users(commune_id: int, role: str) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.org_unit_id == commune_id, User.role == role, User.active.is_(True))
        )
    )
