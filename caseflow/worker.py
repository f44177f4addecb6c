"""RQ plumbing in one place: queue names, the job decorator that gives jobs an app context, the worker."""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from redis import Redis

log = logging.getLogger("caseflow.worker")

MAIL = "mail"
SCAN = "scan"
# Mail first: a scan can wait a few seconds, a task-created mail should not wait behind a scan.
QUEUES = (MAIL, SCAN)

F = TypeVar("F", bound=Callable[..., Any])


def queue_name(app: Flask, short: str) -> str:
    """The full queue name; the prefix lets test runs and installations share one Redis."""
    return f"{app.config['CASEFLOW_QUEUE_PREFIX']}-{short}"


def redis_connection(app: Flask) -> Redis:
    """One client (and connection pool) per app and URL: a new client per dispatch cost a TCP
    connect and a handshake on every transition. redis-py's pool is thread-safe and resets
    itself in a forked child."""
    url = app.config["REDIS_URL"]
    cached = app.extensions.get("caseflow_redis")
    if cached is None or cached[0] != url:
        # Short timeouts: a web request must not hang on a dead Redis, the sweep catches up later.
        cached = (url, Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5))
        app.extensions["caseflow_redis"] = cached
    return cached[1]


def get_queue(app: Flask, short: str, connection: Redis | None = None):  # noqa: ANN201
    """A Queue on the app's Redis, kept per app: a new Queue object asked the server its
    version (an INFO round trip) before its first job, so on every transition."""
    from rq import Queue

    if connection is not None:
        return Queue(queue_name(app, short), connection=connection)
    redis = redis_connection(app)
    queues = app.extensions.setdefault("caseflow_queues", {})
    queue = queues.get(short)
    if queue is None or queue.connection is not redis:
        queue = queues[short] = Queue(queue_name(app, short), connection=redis)
    return queue


def job(fn: F) -> F:
    """Run a job inside an app context. Jobs take ids, never ORM objects: they load fresh rows."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not has_app_context():
            from caseflow import create_app  # a plain `rq worker` has no app: build one

            with create_app().app_context():
                return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        finally:
            from rq import get_current_job

            from caseflow.extensions import db

            if get_current_job() is not None:
                # A non-forking worker runs every job in one app context: start each afresh.
                db.session.remove()

    return wrapper  # type: ignore[return-value]


def _dispose_pool_after_fork() -> None:
    # The work horse is a fork: it must not reuse the parent's database connections.
    from caseflow.extensions import db

    if has_app_context():
        db.engine.dispose(close=False)


def _warm_up(app: Flask) -> None:
    """Pay once, in the parent, what every forked work horse would otherwise pay per job:
    imports, mapper set-up, template compilation, SQL compilation, the host name lookup.
    Without it a mail job spends most of its time starting up (measured: 0.4 s vs 0.05 s)."""
    import sqlalchemy.orm

    import caseflow.jobs.mail
    import caseflow.jobs.scan  # noqa: F401
    from caseflow.notifications.delivery import deliver, local_hostname

    sqlalchemy.orm.configure_mappers()
    for name in ("notification.txt", "notification.html", "digest.txt", "digest.html"):
        app.jinja_env.get_template(f"email/{name}")
    local_hostname()
    deliver(0)  # no such row: compiles the claim statements and changes nothing


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
    _warm_up(app)
    connection = redis_connection(app)
    names = [queue_name(app, q) for q in queues]
    scheduler_process = None
    if cron and not burst and SCAN in queues:
        backup_every = app.config["BACKUP_INTERVAL_SECONDS"] if app.config.get("CASEFLOW_BACKUP_DIR") else 0
        scheduler_process = multiprocessing.get_context("spawn").Process(
            target=run_cron,
            args=(
                app.config["REDIS_URL"],
                queue_name(app, SCAN),
                app.config["SCAN_INTERVAL_SECONDS"],
                backup_every,
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


def run_cron(redis_url: str, scan_queue: str, interval: int, backup_interval: int = 0) -> None:
    """RQ's own CronScheduler: enqueues the scan job on the scan queue every `interval` seconds,
    and the backup job every `backup_interval` seconds when backups are configured."""
    from rq.cron import CronScheduler

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
    scheduler.start()


def enqueue(
    short: str,
    fn: Callable,
    calls: list[tuple],
    delay_seconds: float | None = None,
    timeout: int | None = None,
) -> None:
    """Put one job per argument tuple on a named queue, over one connection. Redis errors
    propagate: the caller decides what losing Redis means (for mail: the sweep catches up).
    `timeout`: seconds a job may run (RQ's default otherwise)."""
    from datetime import timedelta

    from rq import Queue

    queue = get_queue(current_app, short)
    if delay_seconds:
        for args in calls:
            queue.enqueue_in(timedelta(seconds=delay_seconds), fn, *args, job_timeout=timeout)
        return
    # One pipelined round trip per chunk: a scan may write thousands of rows in one commit.
    for start in range(0, len(calls), 500):
        chunk = calls[start : start + 500]
        queue.enqueue_many([Queue.prepare_data(fn, args, timeout=timeout) for args in chunk])
