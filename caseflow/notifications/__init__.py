"""Outbox delivery after commit, the overdue ladder and what admins may call.

Public functions for other parts of CaseFlow (the admin page calls these):

- ``failed_notifications(limit=100) -> list[Notification]``: rows whose last attempt
  failed for good, newest first, with ``last_error`` and ``attempts``.
- ``retry_notification(notification_id) -> bool``: put a failed row back in the outbox
  with fresh attempts and send it now (False if the row is not failed).
- ``dispatch(ids)``: send these outbox rows now (an RQ job each with ``REDIS_URL``,
  in-process otherwise). Rows added through the ORM are dispatched by themselves once
  their transaction commits; call it only for rows changed with a bulk UPDATE.
- ``caseflow.notifications.escalation.run_scan()``: one overdue scan and outbox sweep.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app
from sqlalchemy import event, select, update

from caseflow.extensions import db
from caseflow.models import Notification
from caseflow.models.types import utcnow
from caseflow.notifications.delivery import DIGEST_KIND, sweep_after
from caseflow.services.outbox import PENDING_IDS

log = logging.getLogger("caseflow.notifications")

# Rows per mail job: one job carries a commit's mails (a transition writes a few, a scan
# thousands), small enough that a slow mail server cannot run a job past its timeout.
MAIL_BATCH = 20


def dispatch(ids: list[int], delay_seconds: float | None = None) -> None:
    """Hand committed outbox rows to the sender. Never raises: a row not handed over stays
    pending, and the sweep in the next scan hands it over again."""
    if not ids:
        return
    if current_app.config.get("REDIS_URL"):
        from caseflow.jobs.mail import send_notifications
        from caseflow.worker import MAIL, enqueue

        batches = [(ids[i : i + MAIL_BATCH],) for i in range(0, len(ids), MAIL_BATCH)]
        try:
            # Each mail may take MAIL_TIMEOUT: the job must not be killed before its last one.
            timeout = MAIL_BATCH * current_app.config["MAIL_TIMEOUT"] + 60
            enqueue(MAIL, send_notifications, batches, delay_seconds, timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - Redis down: the sweep re-enqueues later
            log.warning("could not enqueue notifications %s (%s); the sweep will", ids, exc)
        return
    from caseflow.notifications.delivery import deliver

    for nid in ids:
        try:
            deliver(nid)
        except Exception:  # the change is committed already; the sweep retries the row
            log.exception("in-process delivery of notification %s failed", nid)


def dispatch_digests(recipients: list[str], delay_seconds: float | None = None) -> None:
    """Send the due digest of each recipient, like `dispatch` (never raises)."""
    if not recipients:
        return
    if current_app.config.get("REDIS_URL"):
        from caseflow.jobs.mail import send_digest
        from caseflow.worker import MAIL, enqueue

        try:
            enqueue(MAIL, send_digest, [(r,) for r in recipients], delay_seconds)
        except Exception as exc:  # noqa: BLE001
            log.warning("could not enqueue digests (%s); the next scan will", exc)
        return
    from caseflow.notifications.delivery import deliver_digest

    for recipient in recipients:
        try:
            deliver_digest(recipient)
        except Exception:
            log.exception("in-process digest to %s failed", recipient)


def failed_notifications(limit: int = 100) -> list[Notification]:
    """Rows that will not be tried again unless an admin retries them, newest first."""
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.status == "failed")
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def retry_notification(notification_id: int) -> bool:
    """Put a failed row back with fresh attempts and send it; False if it was not failed."""
    row = db.session.get(Notification, notification_id)
    if row is None or row.status != "failed":
        return False
    digest = row.kind == DIGEST_KIND
    now = utcnow()
    result = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.status == "failed")
        # A digest item goes with its recipient's digest, which takes only rows that are due.
        .values(status="pending", attempts=0, next_attempt_at=now if digest else sweep_after(now))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        return False  # another admin retried it at the same moment
    if digest:
        dispatch_digests([row.recipient])
    else:
        dispatch([notification_id])
    return True


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


def init_app(app: Flask) -> None:
    """Deliver outbox rows once the transaction that wrote them commits, never before."""
    if not getattr(init_app, "_hooked", False):
        # db.session is one scoped session for every app: hook its class once.
        event.listen(db.session, "before_flush", _stamp)
        event.listen(db.session, "after_flush", _collect)
        event.listen(db.session, "after_commit", _send_committed)
        event.listen(db.session, "after_soft_rollback", _forget)
        init_app._hooked = True  # type: ignore[attr-defined]
