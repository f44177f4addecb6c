"""GET /metrics for Prometheus: request latency by endpoint, and the figures an operator is paged on.

Latency is observed per request; the rest (overdue tasks, failed and pending mail, queue depth,
the last scan) is read when Prometheus scrapes, so every web process tells the same truth.
Under gunicorn set PROMETHEUS_MULTIPROC_DIR (an empty folder per start) so that latency from all
processes is summed. Access: a bearer token (CASEFLOW_METRICS_TOKEN), or, without one, only
from the loopback address: keep /metrics out of the reverse proxy (deploy/nginx.conf does).
"""

from __future__ import annotations

import contextlib
import hmac
import os
import time
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from redis.exceptions import RedisError
from sqlalchemy import func, select

from caseflow import heartbeat
from caseflow.extensions import db
from caseflow.models import Notification, Task
from caseflow.models.types import utcnow

bp = Blueprint("metrics", __name__)
LOOPBACK = {"127.0.0.1", "::1"}


class StateCollector:
    """The register's state, read at scrape time."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        overdue = db.session.scalar(
            select(func.count()).select_from(Task).where(Task.status == "open", Task.due_at < now)
        )
        yield GaugeMetricFamily("caseflow_overdue_tasks", "Open tasks past their deadline", value=overdue)
        mail = GaugeMetricFamily("caseflow_notifications", "Outgoing mails by status", labels=["status"])
        for status, count in db.session.execute(
            select(Notification.status, func.count()).group_by(Notification.status)
        ):
            mail.add_metric([status], count)
        yield mail
        failed = db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.status == "failed")
        )
        yield GaugeMetricFamily(
            "caseflow_failed_notifications", "Mails given up after every retry", value=failed
        )
        if self.app.config.get("REDIS_URL"):
            yield self._queue_depth()
        beat = heartbeat.last_scan(self.app)
        yield GaugeMetricFamily(
            "caseflow_scan_last_success_timestamp_seconds",
            "When the overdue scan last finished (Unix time; 0: not since start)",
            value=beat["finished_at"] if beat else 0,
        )
        yield GaugeMetricFamily(
            "caseflow_scan_duration_seconds",
            "How long the last overdue scan took",
            value=beat["duration_seconds"] if beat else 0,
        )

    def _queue_depth(self) -> GaugeMetricFamily:
        from rq import Queue

        from caseflow.jobs.queue import QUEUES, queue_name, redis_connection

        depth = GaugeMetricFamily("caseflow_queue_depth", "Jobs waiting per RQ queue", labels=["queue"])
        # Redis down: /healthz says so, and the other figures still count.
        with contextlib.suppress(RedisError):
            connection = redis_connection(self.app)
            for short in QUEUES:
                depth.add_metric([short], Queue(queue_name(self.app, short), connection=connection).count)
        return depth


def _allowed() -> bool:
    token = current_app.config.get("CASEFLOW_METRICS_TOKEN")
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(sent.encode(), token.encode())
    return request.remote_addr in LOOPBACK


@bp.get("/metrics")
def metrics() -> Response:
    if not _allowed():
        abort(404)  # not 403: do not tell a stranger there is something here
    registry = current_app.extensions["caseflow_metrics"]["registry"]
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    registry = CollectorRegistry()
    if multiprocess:
        MultiProcessCollector(registry)
    latency = Histogram(
        "caseflow_http_request_duration_seconds",
        "Time to answer a request, by endpoint (never by path: paths carry ids and tokens)",
        ["endpoint", "method", "status"],
        registry=None if multiprocess else registry,
        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    )
    registry.register(StateCollector(app))
    app.extensions["caseflow_metrics"] = {"registry": registry, "latency": latency}

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is not None and request.endpoint != "metrics.metrics":
            latency.labels(
                request.endpoint or "unmatched", request.method, str(response.status_code)
            ).observe(time.perf_counter() - started)
        return response

    app.register_blueprint(bp)
