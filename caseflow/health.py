"""GET /healthz: is the database reachable, is the job queue, are mails failing, is the overdue
scan running, is there disk left, does the database agree with the workflow file (checked at
start-up).

503 when a dependency is down or the database names states or tasks the workflow file lacks;
200 with status "degraded" and the reasons in `warnings` when CaseFlow still answers but its
deadlines or files are at risk (a stale scan, a full disk).
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from flask import Blueprint, Flask, current_app, jsonify, request
from sqlalchemy import func, select, text

from caseflow import heartbeat
from caseflow.extensions import db
from caseflow.models import Notification

bp = Blueprint("health", __name__)
log = logging.getLogger("caseflow.health")


@bp.get("/healthz")
def healthz():  # noqa: ANN201
    body = {"status": "ok", "database": "ok", "queue": "inline"}
    try:
        db.session.execute(text("SELECT 1"))
        body["failed_notifications"] = db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.status == "failed")
        )
        body["pending_notifications"] = db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.status == "pending")
        )
        # A warning, not a failure: deadlines still compute, but those near next Tết would be wrong.
        from caseflow.seed_calendar import next_year_tet_status

        body["calendar"] = next_year_tet_status()
    except Exception:  # noqa: BLE001 - any failure means the database is down for us
        db.session.rollback()
        body["database"] = "down"
    if current_app.config.get("REDIS_URL"):
        from redis import Redis

        try:
            Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=2).ping()
            body["queue"] = "ok"
        except Exception:  # noqa: BLE001
            body["queue"] = "down"
    warnings = _scan_warnings(body) + _disk_warnings(body)
    if body.get("calendar", {}).get("status") == "warning":
        warnings.append(body["calendar"]["message"])
    if current_app.extensions.get("caseflow_workflow_problems"):
        body["workflow"] = "mismatch"
        body["workflow_problems"] = current_app.extensions["caseflow_workflow_problems"]
    if "down" in (body["database"], body["queue"]) or body.get("workflow") == "mismatch":
        body["status"] = "down"
        return jsonify(body), 503
    if warnings:
        body["status"] = "degraded"
        body["warnings"] = warnings
    if not _may_see_details():
        body = {k: v for k, v in body.items() if k in PUBLIC_FIELDS}
    return jsonify(body)


# What anyone may read: the contract's fields and the reasons for "degraded". The counts (mail
# failing, the scan's age, the disk left) are for this machine's monitoring and signed-in users.
PUBLIC_FIELDS = ("status", "database", "queue", "warnings")


def _may_see_details() -> bool:
    if request.remote_addr in ("127.0.0.1", "::1"):
        return True
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        from caseflow.services.tokens import user_for_token

        return user_for_token(token.strip()) is not None
    from flask_login import current_user

    return bool(current_user and current_user.is_authenticated)


def _scan_warnings(body: dict) -> list[str]:
    """The scan is stale after three missed intervals (and at least 15 minutes): deadlines are
    then passing without anyone being told."""
    app = current_app
    limit = max(3 * app.config["SCAN_INTERVAL_SECONDS"], 900)
    beat = heartbeat.last_scan()
    now = time.time()
    body["scan"] = {"last_success_age_seconds": round(now - beat["finished_at"]) if beat else None}
    if beat is None:
        started = app.extensions.get("caseflow_started_at", now)
        return ["scan_never_ran"] if now - started > limit else []
    return ["scan_stale"] if now - beat["finished_at"] > limit else []


def _disk_warnings(body: dict) -> list[str]:
    minimum = current_app.config["CASEFLOW_MIN_FREE_DISK_MB"] * 1024 * 1024
    free = shutil.disk_usage(Path(current_app.instance_path)).free
    body["disk"] = {"free_mb": free // (1024 * 1024)}
    return ["disk_low"] if free < minimum else []


def init_app(app: Flask) -> None:
    app.extensions["caseflow_started_at"] = time.time()
    app.register_blueprint(bp)
    _check_workflow(app)


def _check_workflow(app: Flask) -> None:
    """At start-up: do the cases' states and the open tasks' templates exist in the loaded
    workflow file? If not, every request but /healthz gets a 503 naming what is wrong and how
    to fix it (`flask caseflow check-workflow`), instead of a 500 on each case it cannot move."""
    from caseflow.services import workflow_check
    from caseflow.workflow import current_engine

    with app.app_context():
        definition = current_engine().definition
        problems = workflow_check.check_at_start(definition)
    if not problems:
        return
    messages = [p.describe(definition.path) for p in problems]
    for message in messages:
        log.error("workflow check: %s", message)
    app.extensions["caseflow_workflow_problems"] = messages

    @app.before_request
    def _refuse_while_mismatched():  # noqa: ANN202
        from flask import request

        if request.path == "/healthz":
            return None
        body = {
            "error": {
                "code": "workflow_mismatch",
                "message": "The database does not agree with the workflow file: " + "; ".join(messages),
            }
        }
        return jsonify(body), 503
