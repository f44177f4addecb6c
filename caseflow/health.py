"""GET /healthz: is the database reachable, is the job queue, are mails failing, does the
database agree with the workflow file (checked at start-up)."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import func, select, text

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
    if current_app.extensions.get("caseflow_workflow_problems"):
        body["workflow"] = "mismatch"
        body["workflow_problems"] = current_app.extensions["caseflow_workflow_problems"]
    if "down" in (body["database"], body["queue"]) or body.get("workflow") == "mismatch":
        body["status"] = "down"
        return jsonify(body), 503
    return jsonify(body)


def init_app(app: Flask) -> None:
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
