"""Overdue work by commune and by agency, for a supervisor's subtree."""

from __future__ import annotations

from sqlalchemy import func, select

from caseflow.extensions import db
from caseflow.models import Agency, Case, OpenCaseCount, OrgUnit, Task, User
from caseflow.models.types import utcnow
from caseflow.services import access


def overdue_dashboard(user: User) -> dict:
    """Counts for the caller's reach, read without visiting the cases themselves.

    Open cases come from the per-commune-pair counters (a few hundred rows), overdue tasks from
    the open tasks' index with their case's communes in it: the cost follows the number of
    communes and of overdue tasks, not the size of the register.
    """
    now = utcnow()
    counter_scope = access.open_count_scope(user)
    if counter_scope is not None:
        open_cases = dict(
            db.session.execute(
                select(OpenCaseCount.residence_commune_id, func.sum(OpenCaseCount.open_cases))
                .where(counter_scope, OpenCaseCount.open_cases > 0)
                .group_by(OpenCaseCount.residence_commune_id)
            ).all()
        )
    else:  # agency staff: the cases their agency works on, which no counter follows
        open_cases = dict(
            db.session.execute(
                select(Case.residence_commune_id, func.count())
                .where(access.case_scope(user), Case.state.not_in(_terminal_states()))
                .group_by(Case.residence_commune_id)
            ).all()
        )
    overdue_rows = db.session.execute(
        select(Task.residence_commune_id, Task.agency_id, func.count())
        .where(access.task_commune_scope(user), Task.status == "open", Task.due_at < now)
        .group_by(Task.residence_commune_id, Task.agency_id)
    ).all()
    by_unit: dict[int, int] = {}
    by_agency: dict[int, int] = {}
    for unit_id, agency_id, count in overdue_rows:
        by_unit[unit_id] = by_unit.get(unit_id, 0) + count
        by_agency[agency_id] = by_agency.get(agency_id, 0) + count
    unit_ids = set(open_cases) | set(by_unit)
    units = (
        {u.id: u for u in db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(unit_ids)))}
        if unit_ids
        else {}
    )
    agencies = (
        {a.id: a for a in db.session.scalars(select(Agency).where(Agency.id.in_(by_agency)))}
        if by_agency
        else {}
    )
    return {
        "by_org_unit": sorted(
            (
                {
                    "code": units[i].code,
                    "name": units[i].name,
                    "open_cases": open_cases.get(i, 0),
                    "overdue_tasks": by_unit.get(i, 0),
                }
                for i in unit_ids
            ),
            key=lambda row: (-row["overdue_tasks"], row["code"]),
        ),
        "by_agency": sorted(
            (
                {
                    "code": agencies[i].code,
                    "name": agencies[i].name,
                    "kind": agencies[i].kind,
                    "overdue_tasks": n,
                }
                for i, n in by_agency.items()
            ),
            key=lambda row: (-row["overdue_tasks"], row["code"]),
        ),
    }


def _terminal_states() -> list[str]:
    from caseflow.workflow import current_engine

    return [s.name for s in current_engine().definition.states.values() if s.terminal]
