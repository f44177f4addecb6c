"""The work queue: tasks the caller may see, and completing one."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from caseflow.extensions import db
from caseflow.models import Case, Task, User
from caseflow.models.tasks import TASK_STATUSES
from caseflow.models.types import utcnow
from caseflow.services import access, limits
from caseflow.services.cases import MAX_ID
from caseflow.services.errors import Conflict, Forbidden, Invalid, NotFound, Why
from caseflow.services.transition import TransitionRun
from caseflow.services.validation import Fields
from caseflow.services.writes import case_write
from caseflow.workflow.definition import WorkflowDefinition
from caseflow.workflow.engine import Engine


def task_query(user: User, *, status: str | None = None, overdue: bool = False) -> Select:
    query = select(Task).join(Case, Task.case_id == Case.id).where(access.task_scope(user))
    if status:
        if status not in TASK_STATUSES:
            raise Invalid({"status": Why("not_choice", choices=", ".join(TASK_STATUSES))})
        query = query.where(Task.status == status)
    if overdue:
        query = query.where(Task.status == "open", Task.due_at < utcnow())
    return query


def list_tasks(user: User, page: int, per_page: int, **filters) -> tuple[list[Task], int]:  # noqa: ANN003
    query = task_query(user, **filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(
        query.order_by(Task.due_at, Task.id)
        .options(selectinload(Task.agency), selectinload(Task.case))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(items), total or 0


def get_task(user: User, task_id: int) -> Task:
    if not 0 < task_id <= MAX_ID:
        raise NotFound("No such task")
    task = db.session.scalar(task_query(user).where(Task.id == task_id))
    if task is None:
        raise NotFound("No such task")
    return task


def finishing_steps(definition: WorkflowDefinition, task: Task) -> list[str] | None:
    """The triggers that finish a step task (`completed_by: trigger` in the workflow file), or
    None for a task its agency completes itself."""
    template = definition.tasks.get(task.template)
    if template is None or template.completed_by != "trigger":
        return None
    return [t.trigger for t in definition.transitions.values() if task.kind in t.completes]


def complete_task(
    engine: Engine,
    user: User | None,
    task: Task,
    payload: object,
    actor_label: str | None = None,
    via: str | None = None,
) -> Task:
    """Mark a task done with its outcome; `user` None means an emailed single-use link acted
    (`actor_label` the agency's code, `via` how, kept in the event's data for the trail)."""
    fields = Fields(payload if payload is not None else {})
    outcome = fields.string("outcome", required=True, max_length=limits.SHORT_TEXT_CHARS)
    note = fields.string("note", max_length=limits.LONG_TEXT_CHARS)
    fields.raise_if_any()
    definition = engine.definition
    template = definition.tasks.get(task.template)
    if template is not None and template.role is not None and (user is None or user.role != template.role):
        raise Forbidden(f"Only the {template.role} decides this task")
    if user is not None and not access.may_complete(user, task, definition):
        raise Forbidden.because("may_not_complete")
    if task.status != "open":
        raise Conflict.because("task_not_open", status=task.status)
    steps = finishing_steps(definition, task)
    if steps is not None:
        raise Conflict(
            f"This task is finished by its step on the case ({', '.join(steps) or 'a step'}), "
            "not marked as done: the step records the decision and moves the case on"
        )
    with case_write():  # the same versioned write as a transition's: of two at once, one wins
        run = TransitionRun(engine, task.case, user, {}, actor_label)
        run.change(
            task,
            status="done",
            completed_at=run.now,
            outcome=outcome,
            note=note,
            completed_by_id=user.id if user else None,
        )
        run.write_changes()
        data = {"task_id": task.id, "kind": task.kind, "outcome": outcome}
        if via is not None:
            data["via"] = via
        run.record("task_completed", data=data)
    return task
