"""GET shows what the link will do (mail scanners follow links); only POST changes anything."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from caseflow.extensions import db
from caseflow.models import Agency, Case, Task, UsedActionToken
from caseflow.notifications.action_links import BadLink, completable_by_link, read_token
from caseflow.notifications.render import format_due, locale_of, task_label
from caseflow.services import audit, limits
from caseflow.services.errors import Conflict, DomainError
from caseflow.services.tasks import complete_task
from caseflow.workflow import current_engine

bp = Blueprint("actions", __name__, url_prefix="/actions")

TEXT = {
    "vi": {
        "title_acknowledge": "Xác nhận đã nhận nhiệm vụ",
        "title_complete": "Báo cáo đã hoàn thành nhiệm vụ",
        "case": "Hồ sơ",
        "task": "Nhiệm vụ",
        "due": "Hạn",
        "agency": "Cơ quan",
        "outcome": "Kết quả thực hiện (bắt buộc)",
        "note": "Ghi chú",
        "confirm": "Xác nhận",
        "done_acknowledge": "Đã ghi nhận: cơ quan đã nhận nhiệm vụ.",
        "done_complete": "Đã ghi nhận: nhiệm vụ đã hoàn thành.",
        "used": "Liên kết này đã được sử dụng.",
        "expired": "Liên kết này đã hết hạn.",
        "invalid": "Liên kết không hợp lệ.",
        "closed": "Nhiệm vụ này không còn mở.",
        "need_outcome": "Vui lòng nhập kết quả thực hiện.",
        "rerouted": "Nhiệm vụ này đã được chuyển cho cơ quan khác; liên kết không còn hiệu lực.",
        "by_step": "Nhiệm vụ này được hoàn thành bằng bước xử lý trên hồ sơ trong CaseFlow, "
        "không thể báo hoàn thành qua liên kết.",
    },
    "en": {
        "title_acknowledge": "Acknowledge the task",
        "title_complete": "Report the task done",
        "case": "Case",
        "task": "Task",
        "due": "Due",
        "agency": "Agency",
        "outcome": "Outcome (required)",
        "note": "Note",
        "confirm": "Confirm",
        "done_acknowledge": "Recorded: your agency has acknowledged the task.",
        "done_complete": "Recorded: the task is done.",
        "used": "This link has already been used.",
        "expired": "This link has expired.",
        "invalid": "This link is not valid.",
        "closed": "This task is no longer open.",
        "need_outcome": "Please describe the outcome.",
        "rerouted": "This task has been given to another agency; this link no longer works.",
        "by_step": "This task is finished by taking its step on the case in CaseFlow, not by a link.",
    },
}


def _page(template: str, locale: str, status: int = 200, **context):  # noqa: ANN202, ANN003
    return render_template(f"pages/actions/{template}", t=TEXT[locale], locale=locale, **context), status


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
