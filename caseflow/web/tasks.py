"""My work: the open tasks the user must act on, by deadline, with time left on the legal clock."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caseflow.models.types import utcnow
from caseflow.services import access, tasks
from caseflow.services.calendar import load_calendar
from caseflow.services.errors import Conflict, Invalid
from caseflow.web.forms import CompleteTaskForm
from caseflow.web.helpers import completed_by_step, permission_required, safe_next, time_left
from caseflow.workflow import current_engine

bp = Blueprint("tasks", __name__)
PER_PAGE = 50


@bp.get("/tasks")
@permission_required("work_tasks")
def my_work() -> str:
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    items, total = tasks.list_tasks(current_user, page, PER_PAGE, status="open")
    now, calendar = utcnow(), load_calendar()
    rows = [
        {
            "task": t,
            "left": time_left(t, now, calendar),
            "by_step": completed_by_step(t),
            "may_complete": not completed_by_step(t) and access.may_complete(current_user, t),
        }
        for t in items
    ]
    return render_template(
        "pages/tasks.html",
        rows=rows,
        total=total,
        page=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        overdue=sum(1 for r in rows if r["left"]["overdue"]),
        form=CompleteTaskForm(),
    )


@bp.post("/tasks/<int:task_id>/complete")
@permission_required("work_tasks")
def complete(task_id: int) -> Response:
    form = CompleteTaskForm()
    back = safe_next(form.next.data) or url_for("tasks.my_work")
    task = tasks.get_task(current_user, task_id)  # 404 outside the caller's reach
    if not form.validate_on_submit():
        flash(_("Say what was done before completing the task."), "error")
        return redirect(back)
    try:
        tasks.complete_task(
            current_engine(),
            current_user,
            task,
            {"outcome": form.outcome.data, "note": form.note.data or None},
        )
    except Conflict:
        flash(_("This task was already completed or cancelled."), "error")
        return redirect(back)
    except Invalid:
        flash(_("Say what was done before completing the task."), "error")
        return redirect(back)
    flash(_("Task completed: %(ref)s", ref=task.case.reference), "success")
    return redirect(back)
