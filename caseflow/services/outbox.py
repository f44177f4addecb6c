"""Writing notifications into the outbox, in the caller's transaction.

Delivery is somebody else's job (caseflow.notifications): rows written here are
sent after the commit, so a rolled-back change never mails anyone.
"""

from __future__ import annotations

from sqlalchemy import insert, select

from caseflow.extensions import db
from caseflow.models import Agency, Case, Notification, Task, User
from caseflow.models.types import utcnow

# Where a session keeps the ids of the outbox rows it wrote, to hand them to the sender
# once its transaction commits (caseflow.notifications, which also fills it for ORM rows).
PENDING_IDS = "caseflow_outbox_ids"


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
) -> Notification | None:
    """Add one outgoing mail. `dedupe` makes it at-most-once: a second row with the same
    key is refused by a unique index, whatever process tries. (Mails for tasks created in
    this transaction, whose keys no row can hold yet, go through `insert_fresh`.)"""
    key = dedupe or dedupe_key(kind, case, task, level, recipient)
    if db.session.scalar(select(Notification.id).where(Notification.dedupe_key == key)):
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


def dedupe_key(
    kind: str,
    case: Case | int | None,
    task: Task | int | None,
    level: int,
    recipient: str,
    occasion: str | None = None,
) -> str:
    """The one format of a mail's at-most-once key: kind, case, task, level, recipient, and the
    occasion when the same mail may rightly go again (a later version of the case, a task
    rerouted to another agency). Cut to the column's 200 characters."""
    case_id = case.id if isinstance(case, Case) else case
    task_id = task.id if isinstance(task, Task) else task
    key = f"{kind}:{case_id if case_id is not None else '-'}:{task_id if task_id is not None else '-'}:{level}:{recipient}"
    return (key if occasion is None else f"{key}:{occasion}")[:200]


def queue_case_mail(kind: str, case: Case, recipient: str, locale: str) -> Notification | None:
    """A mail about the case as it stands now: once per version of the case and recipient."""
    return queue(
        kind,
        recipient,
        case=case,
        locale=locale,
        dedupe=dedupe_key(kind, case, None, 0, recipient, f"v{case.version}"),
    )


def queue_for_agency(kind: str, agency: Agency, **kwargs) -> Notification | None:  # noqa: ANN003
    return queue(kind, agency.email, locale=agency.locale or "vi", **kwargs)


def fresh_row(kind: str, recipient: str, *, case: Case, task: Task, locale: str) -> dict:
    """An outbox row for a task created in this transaction: no row can hold its key yet."""
    return {
        "dedupe_key": dedupe_key(kind, case, task, 0, recipient)[:200],
        "kind": kind,
        "case_id": case.id,
        "task_id": task.id,
        "level": 0,
        "recipient": recipient,
        "locale": locale,
        "context": {},
        "status": "pending",
        "attempts": 0,
    }


def task_created_row(case: Case, task: Task) -> dict:
    """The mail telling a new task's agency about it, as a row for `insert_fresh`."""
    agency = task.agency
    return fresh_row("task_created", agency.email, case=case, task=task, locale=agency.locale or "vi")


# Built once: building and keying a statement anew costs as much CPU as running it.
_INSERT_RETURNING_ID = insert(Notification.__table__).returning(Notification.id)


def insert_fresh(rows: list[dict]) -> None:
    """Write outbox rows in one INSERT, to be sent after the commit like those `queue` adds.

    A transition writes a mail per new task; as ORM objects they cost more CPU than the rest
    of the transition's writes together, so they go as plain rows.
    """
    if not rows:
        return
    from caseflow.notifications.delivery import sweep_after

    now = utcnow()
    for row in rows:
        row["created_at"], row["next_attempt_at"] = now, sweep_after(now)
    ids = db.session.scalars(_INSERT_RETURNING_ID, rows).all()
    db.session.info.setdefault(PENDING_IDS, []).extend(ids)


def queue_for_users(kind: str, users: list[User], **kwargs) -> list[Notification]:  # noqa: ANN003
    rows = [queue(kind, u.email, locale=u.locale or "vi", **kwargs) for u in users if u.active]
    return [r for r in rows if r is not None]


def commune_users(commune_id: int, role: str) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.org_unit_id == commune_id, User.role == role, User.active.is_(True))
        )
    )
