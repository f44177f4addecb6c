"""The task queue and the overdue dashboard."""

from __future__ import annotations

from flask import jsonify, request

from caseflow.api import bp, current_user, flag, json_body, page_json, pagination, require_auth
from caseflow.services import tasks
from caseflow.services.dashboard import overdue_dashboard
from caseflow.services.permissions import roles_for
from caseflow.services.serialize import task_json
from caseflow.workflow import current_engine


@bp.get("/tasks")
@require_auth()
def list_tasks():  # noqa: ANN201
    page, per_page = pagination()
    items, total = tasks.list_tasks(
        current_user(), page, per_page, status=request.args.get("status") or None, overdue=flag("overdue")
    )
    return jsonify(page_json([task_json(t) for t in items], total, page, per_page))


@bp.post("/tasks/<int:task_id>/complete")
@require_auth()
def complete(task_id: int):  # noqa: ANN201
    data = json_body()
    task = tasks.get_task(current_user(), task_id)
    tasks.complete_task(current_engine(), current_user(), task, data)
    return jsonify(task_json(task))


@bp.get("/dashboard/overdue")
@require_auth(*roles_for("see_overview"))
def dashboard():  # noqa: ANN201
    return jsonify(overdue_dashboard(current_user()))
