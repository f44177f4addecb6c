"""The 2025 mergers: a unit closes from a date and its open work moves to the unit that takes it over.

Decree 147/2025 and the commune mergers of 1 July 2025 left cases recorded in communes that
no longer exist; no one could see or act on them. A merger closes the unit (`valid_to`, the
day before it takes effect, and `successor_id`), moves its open cases (each with an event in
its trail), their open tasks' copies of the communes, its agencies and its users to the
successor, all in one transaction. Closed cases stay where they were, for history; routing,
access and escalation follow `successor_id` to reach them (services/succession.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select, update

from caseflow.extensions import db
from caseflow.models import Agency, Case, OrgUnit, User
from caseflow.models.types import utcnow
from caseflow.services import access, counts
from caseflow.services.errors import Conflict, Invalid, NotFound
from caseflow.services.transition import TransitionRun
from caseflow.services.validation import Fields
from caseflow.services.writes import case_write
from caseflow.workflow import current_engine
from caseflow.workflow.clock import LOCAL_TZ

EVENT_KIND = "unit_merged"


@dataclass(frozen=True)
class MergeResult:
    unit: OrgUnit
    into: OrgUnit
    on: date
    cases: int
    tasks: int
    agencies: int
    users: int

    def to_json(self) -> dict:
        return {
            "unit": self.unit.to_json(),
            "into": self.into.to_json(),
            "on": self.on.isoformat(),
            "moved": {
                "cases": self.cases,
                "tasks": self.tasks,
                "agencies": self.agencies,
                "users": self.users,
            },
        }


def _is_closed(unit: OrgUnit, today: date) -> bool:
    return unit.successor_id is not None or (unit.valid_to is not None and unit.valid_to < today)


def merge_unit(code: str, payload: object, actor: User | None = None) -> MergeResult:
    """Merge the unit `code` into `payload["into"]` from `payload["on"]` (a date, not in the future)."""
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        raise NotFound("No such org unit")
    fields = Fields(payload)
    into_code = fields.string("into", required=True, max_length=20)
    on = fields.day("on", required=True)
    today = utcnow().astimezone(LOCAL_TZ).date()
    into = db.session.scalar(select(OrgUnit).where(OrgUnit.code == into_code)) if into_code else None
    if into_code and into is None:
        fields.error("into", "is not a known org unit code")
    if on is not None and on > today:
        fields.error("on", "is in the future: record a merger on or after the day it takes effect")
    if on is not None and unit.valid_from is not None and on <= unit.valid_from:
        fields.error("on", "is not after the day the unit came into being")
    if into is not None:
        if into.id == unit.id:
            fields.error("into", "is the unit itself")
        elif into.level != unit.level:
            fields.error("into", f"must be a {unit.level}, like the unit it takes over")
        elif into.is_within(unit):
            fields.error("into", "lies inside the unit being merged")
    fields.raise_if_any()
    if _is_closed(unit, today):
        raise Conflict("This unit is already closed", {"code": "is already closed"})
    if _is_closed(into, today):
        raise Conflict("The unit to merge into is closed", {"into": "is closed"})
    children = db.session.scalar(
        select(OrgUnit.id).where(OrgUnit.parent_id == unit.id, OrgUnit.successor_id.is_(None))
    )
    if children is not None:
        raise Invalid({"code": "still has open units under it: merge or move them first"})

    with case_write():
        moved_cases, moved_tasks = _move_open_cases(unit, into, on, actor)
        agencies = db.session.execute(
            update(Agency)
            .where(Agency.org_unit_id == unit.id)
            .values(org_unit_id=into.id, moved_from_id=unit.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        users = db.session.execute(
            update(User)
            .where(User.org_unit_id == unit.id)
            .values(org_unit_id=into.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        unit.valid_to = on - timedelta(days=1)
        unit.successor_id = into.id
    db.session.expire_all()  # the bulk UPDATEs above: nothing loaded may keep the old unit
    access.forget_reach()
    return MergeResult(
        db.session.get(OrgUnit, unit.id),
        db.session.get(OrgUnit, into.id),
        on,
        moved_cases,
        moved_tasks,
        agencies,
        users,
    )


def _move_open_cases(unit: OrgUnit, into: OrgUnit, on: date, actor: User | None) -> tuple[int, int]:
    engine = current_engine()
    cases = db.session.scalars(
        select(Case)
        .where(
            Case.closed_at.is_(None),
            or_(Case.incident_commune_id == unit.id, Case.residence_commune_id == unit.id),
        )
        .order_by(Case.id)
    ).all()
    task_count = 0
    for case in cases:
        before = counts.open_pair(case, True)
        run = TransitionRun(engine, case, actor, {}, actor_label=None if actor else "system")
        moved = []
        for side in ("incident_commune", "residence_commune"):
            if getattr(case, f"{side}_id") == unit.id:
                run.change(case, **{side: into, f"{side}_id": into.id})
                moved.append(side)
        for task in case.tasks:  # every task's copy of the communes follows its case
            run.change(
                task,
                incident_commune_id=case.incident_commune_id,
                residence_commune_id=case.residence_commune_id,
            )
            task_count += task.status == "open"
        run.record(
            EVENT_KIND, data={"from": unit.code, "into": into.code, "on": on.isoformat(), "moved": moved}
        )
        run.write_changes()
        counts.record_open_change(before, counts.open_pair(case, True))
    return len(cases), task_count
