"""Signed, expiring links for emailed actions; the signature proves the link, the DB makes it single-use.

Made here for the mails (render.py) and read by the pages that perform them (caseflow/actions).
"""

from __future__ import annotations

import secrets

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

ACTIONS = ("acknowledge", "complete")
SALT = "caseflow-email-action"


class BadLink(Exception):
    """The link is forged, damaged or expired; `expired` tells which, for the page shown."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(task_id: int, action: str) -> str:
    if action not in ACTIONS:
        raise ValueError(action)
    # A fresh random id per link: the used-token table refuses it the second time.
    return _serializer().dumps({"t": task_id, "a": action, "j": secrets.token_hex(16)})


def action_link(task_id: int, action: str) -> str:
    base = current_app.config["CASEFLOW_BASE_URL"].rstrip("/")
    return f"{base}/actions/{make_token(task_id, action)}"


def read_token(token: str) -> tuple[int, str, str]:
    """(task id, action, token id), or BadLink."""
    max_age = current_app.config["EMAIL_ACTION_HOURS"] * 3600
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise BadLink(expired=True) from exc
    except BadSignature as exc:
        raise BadLink(expired=False) from exc
    if (
        not isinstance(data, dict)
        or data.get("a") not in ACTIONS
        or not isinstance(data.get("t"), int)
        or not isinstance(data.get("j"), str)
    ):
        raise BadLink(expired=False)
    return data["t"], data["a"], data["j"]
