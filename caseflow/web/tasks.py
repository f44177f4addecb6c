"""My work: what the user must decide and do now, by deadline, then what they follow, with time left
on each deadline's own clock."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caseflow.models.types import utcnow
from caseflow.services import tasks
from caseflow.services.calendar import load_calendar
from caseflow.services.errors import Conflict, Forbidden, Invalid
from caseflow.services.work import Item
from caseflow.services.work import my_work as my_work_of
from caseflow.web.forms import CompleteTaskForm
from caseflow.web.helpers import (
    ROLE_LABELS,
    completed_by_step,
    label,
    permission_required,
    safe_next,
    time_left,
)
from caseflow.workflow import current_engine

bp = Blueprint("tasks", __name__)
PER_PAGE = 50


@bp.get("/tasks")
@permission_required("work_tasks")
def my_work() -> str:
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    work = my_work_of(current_user, current_engine().definition, page, PER_PAGE)
    now, calendar = utcnow(), load_calendar()

    def row(item: Item) -> dict:
        return {"item": item, "task": item.task, "left": time_left(item.task, now, calendar)}

    groups = [[row(i) for i in group] for group in (work.decide, work.now, work.follow)]
    every = [r for group in groups for r in group]
    return render_template(
        "pages/tasks.html",
        decide=groups[0],
        now_rows=groups[1],
        follow=groups[2],
        follow_total=work.follow_total,
        not_shown=work.not_shown,
        page=page,
        pages=max((work.follow_total + PER_PAGE - 1) // PER_PAGE, 1),
        overdue=sum(1 for r in every if r["left"].overdue),
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
        if completed_by_step(task):
            flash(
                _("This task is finished by taking its step on the case page, not marked as done."), "error"
            )
        else:
            flash(_("This task was already completed or cancelled."), "error")
        return redirect(back)
    except Forbidden:
        template = current_engine().definition.tasks.get(task.template)
        if template is not None and template.role is not None:
            flash(
                _("Only the %(role)s may decide this task.", role=label(ROLE_LABELS, template.role)), "error"
            )
        else:
            flash(_("Only the assigned agency may complete this task."), "error")
        return redirect(back)
    except Invalid:
        flash(_("Say what was done before completing the task."), "error")
        return redirect(back)
    flash(_("Task completed: %(ref)s", ref=task.case.reference), "success")
    return redirect(back)
