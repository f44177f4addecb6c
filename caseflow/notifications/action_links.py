"""Signed, expiring links for emailed actions; the signature proves the link, the DB makes it single-use.

Made here for the mails (render.py) and read by the pages that perform them (caseflow/actions).
"""

from __future__ import annotations

import secrets

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from caseflow.workflow import current_engine

ACTIONS = ("acknowledge", "complete")
SALT = "caseflow-email-action"


class BadLink(Exception):
    """The link is forged, damaged or expired; `expired` tells which, for the page shown."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(task_id: int, action: str, agency_id: int) -> str:
    if action not in ACTIONS:
        raise ValueError(action)
    # A fresh random id per link: the used-token table refuses it the second time. The agency
    # it was sent to is inside: once the task is rerouted to another agency the link is dead.
    return _serializer().dumps({"t": task_id, "a": action, "j": secrets.token_hex(16), "g": agency_id})


def completable_by_link(task) -> bool:  # noqa: ANN001 - a Task
    """A step task (verify, a plan, a decision) is finished by its step; a chair's decision by the
    chair signed in. Neither is ever offered or accepted as an emailed "done"."""
    template = current_engine().definition.tasks.get(task.template)
    return template is None or (template.completed_by == "task" and template.role is None)


def action_link(task_id: int, action: str, agency_id: int) -> str:
    base = current_app.config["CASEFLOW_BASE_URL"].rstrip("/")
    return f"{base}/actions/{make_token(task_id, action, agency_id)}"


def read_token(token: str) -> tuple[int, str, str, int]:
    """(task id, action, token id, agency id), or BadLink."""
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
        or not isinstance(data.get("g"), int)
    ):
        raise BadLink(expired=False)
    return data["t"], data["a"], data["j"], data["g"]
