"""RQ plumbing the jobs and their senders share: queue names, the connection, enqueueing, and
the decorator that gives a job an app context. The worker process (caseflow.worker) runs
them; nothing here imports it, so jobs and worker do not depend on each other both ways."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from redis import Redis

log = logging.getLogger("caseflow.jobs")

MAIL = "mail"
SCAN = "scan"
DOCUMENTS = "documents"
# Mail first: a scan can wait a few seconds, a task-created mail should not wait behind a scan;
# prerendering documents last: it only saves a later reader a wait.
QUEUES = (MAIL, SCAN, DOCUMENTS)


F = TypeVar("F", bound=Callable[..., Any])

# How a job builds its app when RQ runs it without one (a plain `rq worker`): set to
# caseflow.create_app when the caseflow package is imported, which any job's import does first.
APP_FACTORY: Callable[[], Flask] | None = None


def queue_name(app: Flask, short: str) -> str:
    """The full queue name; the prefix lets test runs and installations share one Redis."""
    return f"{app.config['CASEFLOW_QUEUE_PREFIX']}-{short}"


def prerender_key(app: Flask, case_id: int) -> str:
    """The Redis set of a case's forms saved since its prerender job last started (caseflow.jobs
    .dispatch adds to it, caseflow.jobs.documents empties it)."""
    return f"{queue_name(app, DOCUMENTS)}:prerender:{case_id}"


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
        if not has_app_context():  # a plain `rq worker` has no app: build one
            if APP_FACTORY is None:
                raise RuntimeError("no app factory: import caseflow (it registers create_app) first")
            with APP_FACTORY().app_context():
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
