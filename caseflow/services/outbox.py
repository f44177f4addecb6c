"""The outbox, owned here alone: every notification row, its dedupe key, the hand-over after
commit, and the sweep that hands over again what nobody is sending.

Rows are written in the caller's transaction, so a rolled-back change never mails anyone;
once it commits their ids go to the sender set by `init_app` (RQ jobs or in-process delivery,
caseflow.jobs.dispatch). How a mail is rendered and sent is caseflow.notifications' job.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import and_, event, insert, or_, select

from caseflow.extensions import db
from caseflow.models import Agency, Case, Notification, Task
from caseflow.models.types import utcnow

# Where a session keeps the ids of the outbox rows it wrote, to hand them to the sender
# once its transaction commits (filled for plain rows by `insert_fresh`, for ORM rows by `_collect`).
PENDING_IDS = "caseflow_outbox_ids"
# An item of a daily digest: sent with its recipient's digest, never on its own.
DIGEST_KIND = "digest_item"
# Rows the sweep hands over per scan.
SWEEP_LIMIT = 5000

Sender = Callable[[list[int], "float | None"], None]
DigestSender = Callable[[list[str], "float | None"], None]


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
    parts = [kind, _part(case_id), _part(task_id), str(level), recipient]
    if occasion is not None:
        parts.append(occasion)
    return ":".join(parts)[:200]


def _part(value: int | None) -> str:
    return "-" if value is None else str(value)


def sweep_after(now: datetime) -> datetime:
    """When the sweep stops waiting for a fresh row's own job and hands the row over itself."""
    return now + timedelta(seconds=current_app.config.get("SWEEP_GRACE_SECONDS", 120))


def new_row(
    kind: str,
    recipient: str,
    *,
    case_id: int | None,
    task_id: int | None = None,
    level: int = 0,
    locale: str = "vi",
    dedupe: str | None = None,
    context: dict | None = None,
    digest_at: datetime | None = None,
) -> Notification:
    """A pending outbox row (not yet added). `digest_at`: an item of the recipient's digest,
    sent with it at that moment instead of on its own."""
    return Notification(
        dedupe_key=dedupe or dedupe_key(kind, case_id, task_id, level, recipient),
        kind=DIGEST_KIND if digest_at else kind,
        case_id=case_id,
        task_id=task_id,
        level=level,
        recipient=recipient,
        locale=locale or "vi",
        context=context or {},
        status="pending",
        attempts=0,
        next_attempt_at=digest_at,
    )


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
    """Add one outgoing mail, unless a row with its dedupe key exists: at most once, whatever
    process tries (a unique index is the backstop). (Mails for tasks created in this
    transaction, whose keys no row can hold yet, go through `insert_fresh`.)"""
    key = dedupe or dedupe_key(kind, case, task, level, recipient)
    if db.session.scalar(select(Notification.id).where(Notification.dedupe_key == key)):
        return None
    row = new_row(
        kind,
        recipient,
        case_id=case.id if case else None,
        task_id=task.id if task else None,
        level=level,
        locale=locale,
        dedupe=key,
        context=context,
    )
    db.session.add(row)
    return row


def queue_for_agency(kind: str, agency: Agency, **kwargs) -> Notification | None:  # noqa: ANN003
    return queue(kind, agency.email, locale=agency.locale or "vi", **kwargs)


def fresh_row(kind: str, recipient: str, *, case: Case, task: Task, locale: str) -> dict:
    """An outbox row for a task created in this transaction: no row can hold its key yet."""
    return case_row(kind, recipient, case=case, task=task, locale=locale)


def case_row(
    kind: str,
    recipient: str,
    *,
    case: Case,
    task: Task | None = None,
    locale: str,
    dedupe: str | None = None,
) -> dict:
    """An outbox row for `insert_fresh`, for a mail whose key only this transaction can write
    (it names a task created here, the case's version written here, a report written once)."""
    return {
        "dedupe_key": dedupe or dedupe_key(kind, case, task, 0, recipient),
        "kind": kind,
        "case_id": case.id,
        "task_id": task.id if task is not None else None,
        "level": 0,
        "recipient": recipient,
        "locale": locale or "vi",
        "context": {},
        "status": "pending",
        "attempts": 0,
    }


def case_mail_row(kind: str, case: Case, recipient: str, locale: str) -> dict:
    """A mail about the case as it stands now, once per version of the case and recipient, as
    a row for `insert_fresh` from the transaction that wrote that version: no other row can
    hold its key."""
    key = dedupe_key(kind, case, None, 0, recipient, f"v{case.version}")
    return case_row(kind, recipient, case=case, locale=locale, dedupe=key)


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
    now = utcnow()
    for row in rows:
        row["created_at"], row["next_attempt_at"] = now, sweep_after(now)
    ids = db.session.connection().execute(_INSERT_RETURNING_ID, rows).scalars().all()
    db.session.info.setdefault(PENDING_IDS, []).extend(ids)


# -- handing rows to the sender ------------------------------------------------------


def dispatch(ids: list[int], delay_seconds: float | None = None) -> None:
    """Hand committed outbox rows to the sender `init_app` set (never raises: a row not handed
    over stays pending, and the sweep hands it over again). Rows added through the ORM or
    `insert_fresh` are dispatched by themselves once their transaction commits; call it only
    for rows changed with a bulk UPDATE or found by the sweep."""
    if ids:
        current_app.extensions["caseflow_outbox"][0](ids, delay_seconds)


def dispatch_digests(recipients: list[str], delay_seconds: float | None = None) -> None:
    """Send the due digest of each recipient through the sender `init_app` set."""
    if recipients:
        current_app.extensions["caseflow_outbox"][1](recipients, delay_seconds)


def overdue(now: datetime):  # noqa: ANN201 - a SQL expression
    """Rows nobody is sending although their time has come: two ranges of ix_notifications_status,
    so the sweep reads only what it hands over, not every row still waiting for its worker."""
    return or_(
        and_(Notification.status.in_(("pending", "sending")), Notification.next_attempt_at <= now),
        and_(Notification.status == "pending", Notification.next_attempt_at.is_(None)),
    )


def sweep(now: datetime | None = None) -> int:
    """Hand over again rows nobody is sending: Redis was down at commit, a worker died, a
    retry's job was lost. Fresh rows wait SWEEP_GRACE_SECONDS for their own job first."""
    now = now or utcnow()
    ids = list(
        db.session.scalars(
            select(Notification.id)
            .where(Notification.kind != DIGEST_KIND, overdue(now))
            .order_by(Notification.id)
            .limit(SWEEP_LIMIT)
        )
    )
    db.session.commit()
    dispatch(ids)
    return len(ids)


def send_due_digests(now: datetime | None = None) -> int:
    """Hand over the digests whose time has come, one per recipient."""
    now = now or utcnow()
    recipients = list(
        db.session.scalars(
            select(Notification.recipient)
            .where(Notification.kind == DIGEST_KIND, overdue(now))
            .group_by(Notification.recipient)
        )
    )
    db.session.commit()
    dispatch_digests(recipients)
    return len(recipients)


def _stamp(session, flush_context, instances) -> None:  # noqa: ANN001 - SQLAlchemy event signature
    """Give each new row the moment after which the sweep hands it over if its job never came."""
    for obj in session.new:
        if isinstance(obj, Notification) and obj.next_attempt_at is None and obj.status in (None, "pending"):
            obj.next_attempt_at = sweep_after(utcnow())


def _collect(session, flush_context) -> None:  # noqa: ANN001 - SQLAlchemy event signature
    ids = [
        obj.id
        for obj in session.new
        if isinstance(obj, Notification) and obj.status == "pending" and obj.kind != DIGEST_KIND
    ]
    if ids:
        session.info.setdefault(PENDING_IDS, []).extend(ids)


def _forget(session, previous_transaction) -> None:  # noqa: ANN001
    if previous_transaction.nested:
        return  # only a savepoint: rows flushed outside it may still commit (extra ids are skipped)
    session.info.pop(PENDING_IDS, None)


def _send_committed(session) -> None:  # noqa: ANN001
    ids = session.info.pop(PENDING_IDS, None)
    if ids:
        dispatch(sorted(set(ids)))


def init_app(app: Flask, send: Sender, send_digests: DigestSender) -> None:
    """Set who sends committed rows, and hand them over once the transaction that wrote them
    commits, never before."""
    app.extensions["caseflow_outbox"] = (send, send_digests)
    if not getattr(init_app, "_hooked", False):
        # db.session is one scoped session for every app: hook its class once.
        event.listen(db.session, "before_flush", _stamp)
        event.listen(db.session, "after_flush", _collect)
        event.listen(db.session, "after_commit", _send_committed)
        event.listen(db.session, "after_soft_rollback", _forget)
        init_app._hooked = True  # type: ignore[attr-defined]
