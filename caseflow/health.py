"""GET /healthz: is the database reachable, is the job queue, are mails failing."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import func, select, text

from caseflow.extensions import db
from caseflow.models import Notification

bp = Blueprint("health", __name__)


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
    if "down" in (body["database"], body["queue"]):
        body["status"] = "down"
        return jsonify(body), 503
    return jsonify(body)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
