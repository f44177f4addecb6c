"""Jobs on the mail queue: send one outbox row, or one recipient's daily digest."""

from __future__ import annotations

from caseflow.worker import job


@job
def send_notification(notification_id: int) -> str:
    from caseflow.notifications import delivery

    return delivery.deliver_and_reschedule(notification_id)


@job
def send_digest(recipient: str) -> str:
    from caseflow.notifications import delivery

    return delivery.deliver_digest_and_reschedule(recipient)
