"""The task queue and the overdue dashboard."""

from __future__ import annotations

from flask import jsonify, request

from caseflow.api import bp, current_user, flag, page_json, pagination, require_auth
from caseflow.api.schemas import CompleteTask, Dashboard, Task, TaskList, TaskQuery
from caseflow.api.spec import body, endpoint
from caseflow.services import tasks
from caseflow.services.dashboard import overdue_dashboard
from caseflow.services.permissions import roles_for
from caseflow.services.serialize import task_json
from caseflow.workflow import current_engine


@bp.get("/tasks")
@require_auth()
@endpoint(query=TaskQuery, ok={200: TaskList})
def list_tasks():  # noqa: ANN201
    """Tasks the caller may see"""
    page, per_page = pagination()
    items, total = tasks.list_tasks(
        current_user(), page, per_page, status=request.args.get("status") or None, overdue=flag("overdue")
    )
    return jsonify(page_json([task_json(t) for t in items], total, page, per_page))


@bp.post("/tasks/<int:task_id>/complete")
@require_auth()
@endpoint(json=CompleteTask, ok={200: Task}, errors=(403, 404, 409))
def complete(task_id: int):  # noqa: ANN201
    """Complete an open task"""
    task = tasks.get_task(current_user(), task_id)
    tasks.complete_task(current_engine(), current_user(), task, body())
    return jsonify(task_json(task))


@bp.get("/dashboard/overdue")
@require_auth(*roles_for("see_overview"))
@endpoint(ok={200: Dashboard}, errors=(403,))
def dashboard():  # noqa: ANN201
    """Open cases and overdue tasks by org unit and agency, for the caller's subtree"""
    return jsonify(overdue_dashboard(current_user()))
