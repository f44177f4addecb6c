"""Rendering and sending mails, the overdue ladder, and what admins may call.

Public functions for other parts of CaseFlow (the admin page calls these):

- ``failed_notifications(limit=100) -> list[Notification]``: rows whose last attempt
  failed for good, newest first, with ``last_error`` and ``attempts``.
- ``retry_notification(notification_id) -> bool``: put a failed row back in the outbox
  with fresh attempts and send it now (False if the row is not failed).
- (handing rows to the sender, the sweep and the dedupe key live in caseflow.services.outbox)
- ``caseflow.notifications.escalation.run_scan()``: one overdue scan and outbox sweep.
"""

from __future__ import annotations

from sqlalchemy import select, update

from caseflow.extensions import db
from caseflow.models import Notification
from caseflow.models.types import utcnow
from caseflow.services.outbox import DIGEST_KIND, dispatch, dispatch_digests, sweep_after


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
