"""Jobs on the mail queue: send outbox rows, or one recipient's daily digest."""

from __future__ import annotations

import logging

from caseflow.jobs.queue import job

log = logging.getLogger("caseflow.jobs.mail")


@job
def send_notifications(notification_ids: list[int]) -> dict[str, int]:
    """Send the outbox rows one change wrote: one job per commit, not per mail, because
    queueing a job cost the web request more than writing its row. Each row is claimed and
    retried on its own; one that fails does not hold back the others, and a row this job
    could not finish stays in the outbox for the sweep."""
    from caseflow.notifications import delivery

    outcomes: dict[str, int] = {}
    for notification_id in notification_ids:
        try:
            status = delivery.deliver_and_reschedule(notification_id)
        except Exception:  # the next rows still go; this one is retried by the sweep
            log.exception("delivering notification %s failed", notification_id)
            status = "error"
        outcomes[status] = outcomes.get(status, 0) + 1
    return outcomes


@job
def send_notification(notification_id: int) -> str:
    """One row. Kept for jobs queued by versions before `send_notifications`."""
    from caseflow.notifications import delivery

    return delivery.deliver_and_reschedule(notification_id)


@job
def send_digest(recipient: str) -> str:
    from caseflow.notifications import delivery

    return delivery.deliver_digest_and_reschedule(recipient)
