"""My work by job: the open tasks a person must act on now, apart from those they only follow.

A task is the user's to act on when they may take the step that completes it, or mark it done
(the rules of `access`); a task another agency or another role must do is one they follow. Step
tasks reserved for the chair (a decision such as approving the plan) are told apart, so that a
chair sees first what waits for their decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from sqlalchemy import Select, any_, func, select
from sqlalchemy.orm import selectinload

from caseflow.extensions import db
from caseflow.models import Agency, Case, Task, User
from caseflow.services import access
from caseflow.workflow.definition import TransitionDef, WorkflowDefinition

NOW_LIMIT = 50  # the soonest of what one must do now; a page of hundreds would hide the first ones


@dataclass
class Item:
    task: Task
    step: TransitionDef | None = None  # the step that completes it, when the user may take it
    may_complete: bool = False
    decision: bool = False


@dataclass
class Work:
    decide: list[Item] = field(default_factory=list)
    now: list[Item] = field(default_factory=list)
    follow: list[Item] = field(default_factory=list)
    follow_total: int = 0
    own_total: int = 0  # the open tasks of the user's own agencies, shown or not

    @property
    def not_shown(self) -> int:
        return max(self.own_total - NOW_LIMIT, 0)


def acting_agency_ids(user: User) -> list[int]:
    """The agencies whose tasks `user` may mark done: `access.may_complete`'s rule, asked of the
    agencies of the user's own unit, so that the rule keeps one home."""
    if user.role == "agency_staff":
        return [user.agency_id] if user.agency_id else []
    if not user.org_unit_id:
        return []
    agencies = db.session.scalars(select(Agency).where(Agency.org_unit_id == user.org_unit_id))
    return [a.id for a in agencies if access.may_complete(user, SimpleNamespace(agency=a, agency_id=a.id))]


def completing_steps(definition: WorkflowDefinition, task: Task) -> list[TransitionDef]:
    return [
        t for t in definition.transitions.values() if task.kind in t.completes and task.case.state in t.source
    ]


def classify(user: User, definition: WorkflowDefinition, task: Task) -> Item | None:
    """The user's action on `task`, or None when they can only follow it."""
    steps = [
        t
        for t in completing_steps(definition, task)
        if access.may_fire(user, definition, task.case, t.trigger)
    ]
    if steps:
        step = steps[0]
        # A decision: a step the chair may take and the officer may not.
        decision = user.role == "chair" and "officer" not in step.roles
        return Item(task, step=step, decision=decision)
    by_step = any(task.kind in t.completes for t in definition.transitions.values())
    if not by_step and access.may_complete(user, task, definition):
        return Item(task, may_complete=True)
    return None


def open_tasks(user: User) -> Select:
    """The open tasks `user` may read (`access.task_scope`'s), found the way that stays quick on a
    large register: a commune's people reach a few hundred of a province's cases, so their tasks
    are looked up from those cases (cases by commune, tasks by case) instead of walking every open
    task of the province in deadline order and dropping the other communes' ones, the plan
    PostgreSQL picks for the join when it expects the first page to come soon. Wider reaches (a
    supervisor, an agency) read the tasks' own copy of their case's communes, without the join:
    there most open tasks are in reach, and a province's count is one index's."""
    if user.role not in access.COMMUNE_ROLES:
        return select(Task).where(access.task_commune_scope(user), Task.status == "open")
    cases = select(Case.id).where(access.case_scope(user)).scalar_subquery()
    in_reach = (
        Task.case_id == any_(func.array(cases))  # an array: the planner cannot turn it into the join
        if db.session.get_bind().dialect.name == "postgresql"
        else Task.case_id.in_(cases)
    )
    return select(Task).where(in_reach, Task.status == "open")


def my_work(user: User, definition: WorkflowDefinition, page: int, per_page: int) -> Work:
    """What `user` must do now (soonest deadline first), then the page `page` of what they follow."""
    own = acting_agency_ids(user)
    base = open_tasks(user).options(selectinload(Task.agency), selectinload(Task.case))
    work = Work()
    held_back: list[Item] = []
    if own:
        own_query = base.where(Task.agency_id.in_(own))
        work.own_total = (
            db.session.scalar(select(func.count()).select_from(own_query.order_by(None).subquery())) or 0
        )
        mine = db.session.scalars(own_query.order_by(Task.due_at, Task.id).limit(NOW_LIMIT)).all()
        for task in mine:
            item = classify(user, definition, task)
            if item is None:
                held_back.append(Item(task))  # their agency's, but another role's step (the chair's)
            elif item.decision:
                work.decide.append(item)
            else:
                work.now.append(item)
    others = base.where(Task.agency_id.not_in(own)) if own else base
    work.follow_total = (
        db.session.scalar(select(func.count()).select_from(others.order_by(None).subquery())) or 0
    ) + len(held_back)
    rows = db.session.scalars(
        others.order_by(Task.due_at, Task.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    follow = [Item(t) for t in rows]
    if page == 1:
        follow = sorted(held_back + follow, key=lambda i: (i.task.due_at, i.task.id))
    work.follow = follow
    return work
