"""When the overdue scan last finished, and how long it took: what /healthz and /metrics report.

The scan runs in the worker (RQ cron) while /healthz and /metrics answer in the web processes, so
with Redis the heartbeat is kept there; the embedded default scans in the serving process and
keeps it in memory.
"""

from __future__ import annotations

import json
import time

from flask import Flask, current_app
from redis import Redis

_KEY = "heartbeat:scan"


def _redis(app: Flask) -> Redis:
    """A client of its own (not the worker's), so the scan's modules need not import the worker."""
    client = app.extensions.get("caseflow_heartbeat_redis")
    if client is None:
        client = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=2)
        app.extensions["caseflow_heartbeat_redis"] = client
    return client


def record_scan(duration_seconds: float, app: Flask | None = None) -> None:
    """Note a scan that finished now. A lost Redis must not fail the scan that just succeeded."""
    app = app or current_app._get_current_object()
    beat = {"finished_at": time.time(), "duration_seconds": duration_seconds}
    app.extensions["caseflow_scan_heartbeat"] = beat
    if app.config.get("REDIS_URL"):
        try:
            _redis(app).set(f"{app.config['CASEFLOW_QUEUE_PREFIX']}-{_KEY}", json.dumps(beat))
        except Exception:  # noqa: BLE001 - the heartbeat is best effort; /healthz shows it stale
            app.logger.warning("could not record the scan heartbeat in Redis")


def last_scan(app: Flask | None = None) -> dict | None:
    """{"finished_at": epoch seconds, "duration_seconds"} of the last scan, or None."""
    app = app or current_app._get_current_object()
    if app.config.get("REDIS_URL"):
        try:
            raw = _redis(app).get(f"{app.config['CASEFLOW_QUEUE_PREFIX']}-{_KEY}")
        except Exception:  # noqa: BLE001 - Redis down is reported by /healthz's queue check
            raw = None
        if raw:
            return json.loads(raw)
    return app.extensions.get("caseflow_scan_heartbeat")
