"""The worker process: RQ's worker on the mail and scan queues, and RQ's cron for the scan.

The plumbing jobs and senders share (queue names, connection, `job`, `enqueue`) is in
caseflow.jobs.queue; it is re-exported here for callers that name the worker.
"""

from __future__ import annotations

import logging
import multiprocessing
import os

from flask import Flask, has_app_context
from redis import Redis

from caseflow.jobs.queue import (
    DOCUMENTS,
    MAIL,
    QUEUES,
    SCAN,
    enqueue,
    get_queue,
    job,
    queue_name,
    redis_connection,
)

log = logging.getLogger("caseflow.worker")


def _dispose_pool_after_fork() -> None:
    # The work horse is a fork: it must not reuse the parent's database connections.
    from caseflow.extensions import db

    if has_app_context():
        db.engine.dispose(close=False)


def _warm_up(app: Flask, queues: list[str] | tuple[str, ...] = QUEUES, burst: bool = False) -> None:
    """Pay once, in the parent, what every forked work horse would otherwise pay per job:
    imports, mapper set-up, template compilation, SQL compilation, the host name lookup.
    Without it a mail job spends most of its time starting up (measured: 0.4 s vs 0.05 s).
    A burst with no document waiting skips WeasyPrint: it would load Pango and the fonts for
    nothing, most of a second of every burst's start."""
    import sqlalchemy.orm

    import caseflow.jobs.mail
    import caseflow.jobs.scan  # noqa: F401
    from caseflow.notifications.delivery import deliver, local_hostname

    sqlalchemy.orm.configure_mappers()
    for name in ("notification.txt", "notification.html", "digest.txt", "digest.html"):
        app.jinja_env.get_template(f"email/{name}")
    local_hostname()
    deliver(0)  # no such row: compiles the claim statements and changes nothing
    if DOCUMENTS in queues and (not burst or _documents_waiting(app)):
        # WeasyPrint loads Pango and the fonts on import: once here, not in every work horse.
        import weasyprint  # noqa: F401

        import caseflow.jobs.documents  # noqa: F401


def _documents_waiting(app: Flask) -> bool:
    from rq import Queue

    return Queue(queue_name(app, DOCUMENTS), connection=redis_connection(app)).count > 0


def run_worker(
    app: Flask, queues: list[str], burst: bool = False, cron: bool = True, fork: bool = True
) -> bool:
    """Work the named queues until stopped (or until empty with `burst`).

    RQ's scheduler runs in the worker so retries put off with `enqueue_in` come due; unless
    `cron` is off, RQ's CronScheduler runs beside it in a child process and enqueues the
    periodic scan every SCAN_INTERVAL_SECONDS. `fork=False` runs jobs in the worker process
    itself (rq's SimpleWorker): several times the mail throughput, but a job that crashes the
    interpreter takes the worker down, so run it under a supervisor that restarts it.
    """
    from rq import SimpleWorker, Worker

    os.register_at_fork(after_in_child=_dispose_pool_after_fork)
    _warm_up(app, queues, burst)
    connection = redis_connection(app)
    names = [queue_name(app, q) for q in queues]
    scheduler_process = None
    if cron and not burst and SCAN in queues:
        backup_every = app.config["BACKUP_INTERVAL_SECONDS"] if app.config.get("CASEFLOW_BACKUP_DIR") else 0
        anchor_every = app.config["ANCHOR_INTERVAL_SECONDS"] if app.config.get("CASEFLOW_ANCHOR_DIR") else 0
        scheduler_process = multiprocessing.get_context("spawn").Process(
            target=run_cron,
            args=(
                app.config["REDIS_URL"],
                queue_name(app, SCAN),
                app.config["SCAN_INTERVAL_SECONDS"],
                backup_every,
                anchor_every,
            ),
            daemon=True,
        )
        scheduler_process.start()
    try:
        worker = (Worker if fork else SimpleWorker)(names, connection=connection)
        return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
    finally:
        if scheduler_process is not None:
            scheduler_process.terminate()
            scheduler_process.join(5)


def run_cron(
    redis_url: str, scan_queue: str, interval: int, backup_interval: int = 0, anchor_interval: int = 0
) -> None:
    """RQ's own CronScheduler: enqueues the scan job on the scan queue every `interval` seconds,
    the backup job every `backup_interval` seconds when backups are configured, and the trail's
    anchor every `anchor_interval` seconds when an anchor folder is."""
    from rq.cron import CronScheduler

    from caseflow.jobs.anchor import audit_anchor
    from caseflow.jobs.backup import backup
    from caseflow.jobs.scan import scan

    scheduler = CronScheduler(connection=Redis.from_url(redis_url))
    # Named after the queue: installations sharing a Redis keep separate cron histories.
    scheduler.register(
        scan, queue_name=scan_queue, interval=interval, job_timeout=max(interval, 600), name=scan_queue
    )
    if backup_interval:
        # On the scan queue: a backup must not hold up mail, and one worker runs it at a time.
        scheduler.register(backup, queue_name=scan_queue, interval=backup_interval, job_timeout=3600)
    if anchor_interval:
        scheduler.register(audit_anchor, queue_name=scan_queue, interval=anchor_interval, job_timeout=600)
    scheduler.start()


__all__ = [
    "MAIL",
    "QUEUES",
    "SCAN",
    "enqueue",
    "get_queue",
    "job",
    "queue_name",
    "redis_connection",
    "run_cron",
    "run_worker",
]
