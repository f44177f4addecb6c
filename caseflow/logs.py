"""Logging set up once: JSON lines when CASEFLOW_LOG_JSON is set, each with its request, user and job.

Nothing that names a child goes to a log: a request is logged by its route (the rule, with
identifiers but never tokens) and status, never by its query string or body, and the development
server's access lines have their emailed-link tokens cut out.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
import time

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

_TOKEN_PATH = re.compile(r"(/actions/)[^\s/?\"]+")
_QUERY = re.compile(r"\?[^\s\"]*")


class RequestContext(logging.Filter):
    """Adds request_id, user_id and job_id to every record (None outside a request or job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id") if has_request_context() else None
        record.user_id = None
        if has_request_context():
            # Only a user already loaded (a token's or the session's): a log line must not query.
            user = g.get("api_user") or g.get("_login_user")
            record.user_id = getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None
        from rq import get_current_job

        job = get_current_job()  # None outside a worker's job
        record.job_id = job.id if job else None
        return True


class RedactTokens(logging.Filter):
    """The development server logs whole request lines: drop emailed-link tokens and queries."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(
                _QUERY.sub("", _TOKEN_PATH.sub(r"\1[redacted]", a)) if isinstance(a, str) else a
                for a in record.args
            )
        record.msg = _QUERY.sub("", _TOKEN_PATH.sub(r"\1[redacted]", str(record.msg)))
        return True


def _route() -> str:
    """The matched rule with its values, tokens left out: /api/v1/cases/<case_id> -> /api/v1/cases/42."""
    if request.url_rule is None:
        return "unmatched"
    path = request.url_rule.rule
    for name, value in (request.view_args or {}).items():
        shown = "[redacted]" if "token" in name else str(value)
        path = re.sub(rf"<(?:[^:>]+:)?{re.escape(name)}>", shown, path)
    return path


def init_app(app: Flask) -> None:
    context = RequestContext()
    if app.config.get("CASEFLOW_LOG_JSON"):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s %(job_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
        handler.addFilter(context)
        handler.caseflow_json = True  # type: ignore[attr-defined]
        root = logging.getLogger()
        for old in [h for h in root.handlers if getattr(h, "caseflow_json", False)]:
            root.removeHandler(old)  # an app made again in the same process: one line per record
        root.addHandler(handler)
        root.setLevel(app.config.get("CASEFLOW_LOG_LEVEL", "INFO"))
        from flask.logging import default_handler

        app.logger.removeHandler(default_handler)  # app records reach the JSON handler via root
    else:
        for handler in logging.getLogger().handlers:
            handler.addFilter(context)
    logging.getLogger("werkzeug").addFilter(RedactTokens())
    requests_log = logging.getLogger("caseflow.requests")

    @app.before_request
    def _request_id() -> None:
        sent = request.headers.get("X-Request-ID", "")
        # A proxy's id is kept if it looks like one; anything else could forge log lines.
        g.request_id = sent if re.fullmatch(r"[A-Za-z0-9._-]{8,64}", sent) else secrets.token_hex(8)
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        started = g.get("request_started")
        if started is not None and app.config.get("CASEFLOW_LOG_REQUESTS"):
            requests_log.info(
                "request",
                extra={
                    "method": request.method,
                    "route": _route(),
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
        return response
