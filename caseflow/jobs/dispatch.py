"""How committed outbox rows leave: as RQ jobs with `REDIS_URL`, in this process otherwise.

The outbox (caseflow.services.outbox) calls these through the callables the app factory
sets in its init_app, so neither the outbox nor the notifications import the queue.
"""

from __future__ import annotations

import logging

from flask import current_app

from caseflow.jobs.queue import MAIL, enqueue

log = logging.getLogger("caseflow.jobs.dispatch")

# Rows per mail job: one job carries a commit's mails (a transition writes a few, a scan
# thousands), small enough that a slow mail server cannot run a job past its timeout.
MAIL_BATCH = 20


def send(ids: list[int], delay_seconds: float | None = None) -> None:
    """Hand committed outbox rows to the sender. Never raises: a row not handed over stays
    pending, and the sweep in the next scan hands it over again."""
    if not ids:
        return
    if current_app.config.get("REDIS_URL"):
        from caseflow.jobs.mail import send_notifications

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


def send_digests(recipients: list[str], delay_seconds: float | None = None) -> None:
    """Send the due digest of each recipient, like `send` (never raises)."""
    if not recipients:
        return
    if current_app.config.get("REDIS_URL"):
        from caseflow.jobs.mail import send_digest

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
