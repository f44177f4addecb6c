"""GET shows what the link will do (mail scanners follow links); only POST changes anything."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from caseflow.extensions import db
from caseflow.models import Agency, Case, Task, UsedActionToken
from caseflow.notifications.action_links import BadLink, completable_by_link, read_token
from caseflow.notifications.render import format_due, locale_of, mail_locale, task_label
from caseflow.services import audit, limits
from caseflow.services.errors import Conflict, DomainError
from caseflow.services.tasks import complete_task
from caseflow.workflow import current_engine

bp = Blueprint("actions", __name__, url_prefix="/actions")

# What a link's page says after the click, in the agency's language (the Babel catalogs).
MESSAGES = {
    "done_acknowledge": _l("Recorded: your agency has acknowledged the task."),
    "done_complete": _l("Recorded: the task is done."),
    "used": _l("This link has already been used."),
    "expired": _l("This link has expired."),
    "invalid": _l("This link is not valid."),
    "closed": _l("This task is no longer open."),
    "need_outcome": _l("Please describe the outcome."),
    "rerouted": _l("This task has been given to another agency; this link no longer works."),
    "by_step": _l("This task is finished by taking its step on the case in CaseFlow, not by a link."),
}


def _page(template: str, locale: str, status: int = 200, **context):  # noqa: ANN202, ANN003
    # The agency's language, not the browser's: the link was mailed to that agency.
    with mail_locale(locale):
        return render_template(
            f"pages/actions/{template}", messages=MESSAGES, locale=locale, **context
        ), status


def _load(token: str):  # noqa: ANN202
    """(task, agency, action, jti) or an error page."""
    try:
        task_id, action, jti, agency_id = read_token(token)
    except BadLink as exc:
        return None, _page(
            "message.html",
            "vi",
            410 if exc.expired else 404,
            message_key="expired" if exc.expired else "invalid",
        )
    task = db.session.get(Task, task_id)
    if task is None:
        return None, _page("message.html", "vi", 404, message_key="invalid")
    agency = db.session.get(Agency, task.agency_id)
    locale = locale_of(agency.locale if agency else None)
    if db.session.scalar(select(UsedActionToken.jti).where(UsedActionToken.jti == jti)):
        return None, _page("message.html", locale, 410, message_key="used")
    if task.agency_id != agency_id:
        # Sent to an agency that no longer holds the task: it must not act, nor be blamed.
        return None, _page("message.html", locale, 410, message_key="rerouted")
    if task.status != "open":
        return None, _page("message.html", locale, 409, message_key="closed")
    if action == "complete" and not completable_by_link(task):
        return None, _page("message.html", locale, 409, message_key="by_step")
    return (task, agency, action, jti, locale), None


def _facts(task: Task, agency: Agency, locale: str) -> dict:
    case = db.session.get(Case, task.case_id)
    # Only what the mail already showed: never the child, the informant or free text.
    return {
        "reference": case.reference or f"#{case.id}",
        "task_label": task_label(task, locale),
        "due": format_due(task.due_at, locale),
        "agency_name": agency.name if agency else "",
    }


@bp.get("/<token>")
def confirm(token: str):  # noqa: ANN201
    loaded, error = _load(token)
    if error:
        return error
    task, agency, action, _, locale = loaded
    return _page("confirm.html", locale, action=action, **_facts(task, agency, locale))


@bp.post("/<token>")
def perform(token: str):  # noqa: ANN201
    loaded, error = _load(token)
    if error:
        return error
    task, agency, action, jti, locale = loaded
    label = f"{agency.name} ({agency.code}) qua liên kết email" if agency else "email link"
    outcome = (request.form.get("outcome") or "").strip()
    if action == "complete" and not outcome:
        return _page(
            "confirm.html", locale, 400, action=action, error="need_outcome", **_facts(task, agency, locale)
        )
    # The token row, the event and the change commit together: a failed action leaves the link usable.
    db.session.add(UsedActionToken(jti=jti, task_id=task.id, action=action))
    audit.add(
        task.case_id,
        "email_action",
        actor_label=label,
        data={"task_id": task.id, "action": action, "agency": agency.code if agency else None},
    )
    try:
        if action == "complete":
            complete_task(
                current_engine(),
                None,
                task,
                {
                    "outcome": outcome[: limits.SHORT_TEXT_CHARS],
                    "note": (request.form.get("note") or "")[: limits.LONG_TEXT_CHARS] or None,
                },
                actor_label=label,
            )
        else:
            db.session.commit()
    except IntegrityError:
        db.session.rollback()  # the same link, clicked twice at once: the other click won
        return _page("message.html", locale, 410, message_key="used")
    except Conflict:
        db.session.rollback()
        return _page("message.html", locale, 409, message_key="closed")
    except DomainError:
        db.session.rollback()
        return _page(
            "confirm.html", locale, 400, action=action, error="need_outcome", **_facts(task, agency, locale)
        )
    return _page("message.html", locale, message_key=f"done_{action}")
