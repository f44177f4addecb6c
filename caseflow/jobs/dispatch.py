"""How committed outbox rows leave: as RQ jobs with `REDIS_URL`, in this process otherwise;
and how saved forms' documents are prerendered (with `REDIS_URL` only).

The outbox (caseflow.services.outbox) calls these through the callables the app factory
sets in its init_app, so neither the outbox nor the notifications import the queue.
"""

from __future__ import annotations

import logging

from flask import current_app

from caseflow.jobs.queue import DOCUMENTS, MAIL, enqueue, prerender_key, redis_connection

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


# A prerender job may lay out the dossier and a few forms twice each (with and without identity).
PRERENDER_TIMEOUT = 600


def prerender(saved: dict[int, set[str]]) -> None:
    """Have the worker lay out the documents of the cases whose forms were just saved, once per
    burst of saves: the first save of a case schedules a job PRERENDER_DELAY_SECONDS later, the
    saves before it starts only add their forms to the case's set, and the job empties the set
    as it starts (a save after that schedules the next). Never raises: a download renders what
    was not prerendered. Without Redis nothing is done: in-process, the rendering would take the
    CPU from the request that saved, and from the next ones, for a document nobody asked for yet."""
    if not saved or not current_app.config.get("REDIS_URL"):
        return
    from caseflow.jobs.documents import prerender_documents

    delay = float(current_app.config.get("PRERENDER_DELAY_SECONDS", 0))
    try:
        redis = redis_connection(current_app)
        for case_id, codes in saved.items():
            key = prerender_key(current_app, case_id)
            pipe = redis.pipeline(transaction=True)
            pipe.exists(key)
            pipe.sadd(key, *sorted(codes))
            # A set whose job was lost does not hold back prerendering for ever.
            pipe.expire(key, int(delay) + PRERENDER_TIMEOUT * 2)
            waiting, _added, _expiry = pipe.execute()
            if waiting:
                continue  # a job is scheduled and will read these forms too
            try:
                enqueue(DOCUMENTS, prerender_documents, [(case_id,)], delay, timeout=PRERENDER_TIMEOUT)
            except Exception:
                redis.delete(key)  # no job came of it: let the next save schedule one
                raise
    except Exception as exc:  # noqa: BLE001 - Redis down: the download renders it
        log.warning("could not schedule prerendering of cases %s (%s)", sorted(saved), exc)
