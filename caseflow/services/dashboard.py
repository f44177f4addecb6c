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
    communes and of overdue tasks, not the size of the register. Names come joined to the
    grouped rows (plain rows, no ORM objects, no list of ids sent back to the database).
    """
    now = utcnow()
    counter_scope = access.open_count_scope(user)
    if counter_scope is not None:
        open_rows = db.session.execute(
            select(OrgUnit.id, OrgUnit.code, OrgUnit.name, func.sum(OpenCaseCount.open_cases))
            .join(OrgUnit, OrgUnit.id == OpenCaseCount.residence_commune_id)
            .where(counter_scope, OpenCaseCount.open_cases > 0)
            .group_by(OrgUnit.id, OrgUnit.code, OrgUnit.name)
        ).all()
    else:  # agency staff: the cases their agency works on, which no counter follows
        open_rows = db.session.execute(
            select(OrgUnit.id, OrgUnit.code, OrgUnit.name, func.count())
            .select_from(Case)
            .join(OrgUnit, OrgUnit.id == Case.residence_commune_id)
            .where(access.case_scope(user), Case.state.not_in(_terminal_states()))
            .group_by(OrgUnit.id, OrgUnit.code, OrgUnit.name)
        ).all()
    overdue = (
        select(
            Task.residence_commune_id.label("unit_id"),
            Task.agency_id.label("agency_id"),
            func.count().label("n"),
        )
        .where(access.task_commune_scope(user), Task.status == "open", Task.due_at < now)
        .group_by(Task.residence_commune_id, Task.agency_id)
        .subquery()
    )
    overdue_rows = db.session.execute(
        select(
            overdue.c.n,
            OrgUnit.id,
            OrgUnit.code,
            OrgUnit.name,
            Agency.id,
            Agency.code,
            Agency.name,
            Agency.kind,
        )
        .join(OrgUnit, OrgUnit.id == overdue.c.unit_id)
        .join(Agency, Agency.id == overdue.c.agency_id)
    ).all()
    by_unit: dict[int, dict] = {
        unit_id: {"code": code, "name": name, "open_cases": int(n), "overdue_tasks": 0}
        for unit_id, code, name, n in open_rows
    }
    by_agency: dict[int, dict] = {}
    for n, unit_id, unit_code, unit_name, agency_id, code, name, kind in overdue_rows:
        unit = by_unit.setdefault(
            unit_id, {"code": unit_code, "name": unit_name, "open_cases": 0, "overdue_tasks": 0}
        )
        unit["overdue_tasks"] += n
        agency = by_agency.setdefault(
            agency_id, {"code": code, "name": name, "kind": kind, "overdue_tasks": 0}
        )
        agency["overdue_tasks"] += n
    return {
        "by_org_unit": sorted(by_unit.values(), key=lambda row: (-row["overdue_tasks"], row["code"])),
        "by_agency": sorted(by_agency.values(), key=lambda row: (-row["overdue_tasks"], row["code"])),
    }


def _terminal_states() -> list[str]:
    from caseflow.workflow import current_engine

    return [s.name for s in current_engine().definition.states.values() if s.terminal]
