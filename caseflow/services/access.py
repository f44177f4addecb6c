"""Who may see and do what: role, jurisdiction subtree and agency decide every read and write.

Every query of cases or tasks goes through `case_scope` or `task_scope`, so a
new endpoint cannot forget the jurisdiction rule. The dashboard's counts use the
same rule on the copies of the case's communes that tasks and the open-case
counters hold (`task_commune_scope`, `open_count_scope`).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, exists, false, func, or_, select, true
from sqlalchemy.orm import aliased

from caseflow.extensions import db
from caseflow.models import Agency, Case, OpenCaseCount, OrgUnit, Task, User
from caseflow.workflow.definition import WorkflowDefinition

COMMUNE_ROLES = ("officer", "chair")
CASE_CREATOR_AGENCY_KINDS = ("hotline", "police")


def commune_reach(user: User) -> list[int]:
    """The commune of an officer or chair, and every commune merged into it (their closed cases
    stay recorded there): a merged commune's work is never orphaned. Kept for the request (pages
    ask it for every trigger); a merger forgets it (`forget_reach`)."""
    from flask import g, has_app_context

    from caseflow.services.succession import predecessor_ids

    if not user.org_unit_id:
        return []
    cache = g.setdefault("commune_reach", {}) if has_app_context() else {}
    if user.org_unit_id not in cache:
        cache[user.org_unit_id] = [user.org_unit_id, *predecessor_ids(user.org_unit_id)]
    return cache[user.org_unit_id]


def merged_into(unit_id: ColumnElement) -> ColumnElement[bool]:
    """Whether any unit was merged into this one: read beside the caller's user row, it spares
    a request the look-up of predecessors when there are none (`reach_has_no_mergers`)."""
    return exists().where(OrgUnit.successor_id == unit_id)


def reach_has_no_mergers(user: User) -> None:
    """Note, for this request, that no unit was merged into the user's commune (`merged_into`
    read false in the same statement as the user): its reach is the commune alone. Nothing is
    kept across requests, so a merger in another process counts from the next request on."""
    from flask import g, has_app_context

    if user.org_unit_id and has_app_context():
        g.setdefault("commune_reach", {})[user.org_unit_id] = [user.org_unit_id]


def forget_reach() -> None:
    from flask import g, has_app_context

    if has_app_context():
        g.pop("commune_reach", None)


def _subtree_ids(unit: OrgUnit) -> list[int]:
    # The ids themselves, not a subquery: given the list, PostgreSQL can tell a province's
    # supervisor (every case) from a district's and plan the join the right way round
    # (the overdue dashboard on 200,000 cases: three times faster).
    return list(
        db.session.scalars(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True)))
    )


def _subtree_select(unit: OrgUnit) -> Select:
    # A subquery, not the ids: the dashboard's reads join nothing for the planner to order, and
    # a province's few hundred ids as parameters cost more to send than the query to run.
    return select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))


def _commune_pair_scope(
    user: User, incident: ColumnElement, residence: ColumnElement, *, subtree_as_list: bool
) -> ColumnElement[bool] | None:
    """The one jurisdiction rule, on any (incident commune, residence commune) pair of columns:
    an officer or chair reaches their commune's cases, a supervisor those of their subtree.
    None for roles whose reach is not a set of communes."""
    if user.role in COMMUNE_ROLES and user.org_unit_id:
        reach = commune_reach(user)
        if len(reach) > 1:
            return or_(incident.in_(reach), residence.in_(reach))
        return or_(incident == user.org_unit_id, residence == user.org_unit_id)
    if user.role == "supervisor" and user.org_unit is not None:
        if covers_whole_register(user.org_unit):
            # Every unit is under this one (a province's installation): every case is in reach,
            # and a list or count needs no filter (a province's case list: one index range).
            return true()
        ids = _subtree_ids(user.org_unit) if subtree_as_list else _subtree_select(user.org_unit)
        return or_(incident.in_(ids), residence.in_(ids))
    return None


def covers_whole_register(unit: OrgUnit) -> bool:
    """No org unit lies outside `unit`'s subtree (one small indexed count)."""
    if unit.parent_id is not None:
        return False
    outside = (
        select(func.count()).select_from(OrgUnit).where(~OrgUnit.path.startswith(unit.path, autoescape=True))
    )
    return not db.session.scalar(outside)


def case_scope(user: User) -> ColumnElement[bool]:
    """A WHERE clause: the cases `user` may read."""
    by_commune = _commune_pair_scope(
        user, Case.incident_commune_id, Case.residence_commune_id, subtree_as_list=True
    )
    if by_commune is not None:
        return by_commune
    if user.role == "agency_staff" and user.agency_id:
        # One set of case ids from two indexes (the agency's tasks, the cases it reported): an
        # EXISTS under an OR can only be tested case by case, over the whole register.
        # Aliases: their own FROMs, never correlated to a query of tasks or cases they filter.
        task, reported_case = aliased(Task), aliased(Case)
        worked_on = select(task.case_id).where(task.agency_id == user.agency_id)
        reported = select(reported_case.id).where(reported_case.reported_by_agency_id == user.agency_id)
        return Case.id.in_(worked_on.union(reported))
    return false()


def case_detail_scope(user: User) -> ColumnElement[bool]:
    """`case_scope`, and for a commune asked to take a case over, that case: it opens it to
    decide (not the child, see `can_see_identity`). Lists and counts stay `case_scope`: the case
    is not the commune's work until it accepts."""
    if user.role in COMMUNE_ROLES and user.org_unit_id:
        return or_(case_scope(user), Case.pending_handover_id == user.org_unit_id)
    return case_scope(user)


def only_asked_to_take_over(user: User, case: Case) -> bool:
    """The user's commune is asked to take the case over and is not yet one of its communes."""
    return (
        user.role in COMMUNE_ROLES
        and case.pending_handover_id == user.org_unit_id
        and user.org_unit_id not in (case.incident_commune_id, case.residence_commune_id)
    )


def task_scope(user: User) -> ColumnElement[bool]:
    """A WHERE clause on Task (joined to Case): the tasks `user` may read."""
    if user.role == "agency_staff":
        return Task.agency_id == user.agency_id if user.agency_id else false()
    if user.role in COMMUNE_ROLES or user.role == "supervisor":
        return case_scope(user)
    return false()


def task_commune_scope(user: User) -> ColumnElement[bool]:
    """`task_scope` on the task's own copy of its case's communes: the same tasks, without the join.

    Tasks carry their case's incident and residence communes (kept in step by every change of
    them), so a count of tasks by jurisdiction can be read from a tasks index alone.
    """
    if user.role == "agency_staff":
        return Task.agency_id == user.agency_id if user.agency_id else false()
    by_commune = _commune_pair_scope(
        user, Task.incident_commune_id, Task.residence_commune_id, subtree_as_list=False
    )
    return false() if by_commune is None else by_commune


def open_count_scope(user: User) -> ColumnElement[bool] | None:
    """`case_scope` on the open-case counters' commune pairs; None for a role whose reach is not
    a set of communes (agency staff: the cases their agency works on)."""
    if user.role == "agency_staff":
        return None
    by_commune = _commune_pair_scope(
        user, OpenCaseCount.incident_commune_id, OpenCaseCount.residence_commune_id, subtree_as_list=False
    )
    return false() if by_commune is None else by_commune


def can_see_identity(user: User, case: Case) -> bool:
    """Only the bodies handling the case see the child (Decree 56 Art. 33)."""
    if user.role in COMMUNE_ROLES:
        return bool(set(commune_reach(user)) & {case.incident_commune_id, case.residence_commune_id})
    if user.role == "agency_staff" and user.agency_id:
        return any(t.agency_id == user.agency_id and t.status == "open" for t in case.tasks)
    return False


def owning_commune_id(definition: WorkflowDefinition, case: Case) -> int:
    owner = definition.states[case.state].owner
    return case.incident_commune_id if owner == "incident" else case.residence_commune_id


def may_fire(user: User, definition: WorkflowDefinition, case: Case, trigger: str) -> bool:
    transition = definition.transitions[trigger]
    if user.role not in transition.roles:
        return False
    if user.role in COMMUNE_ROLES:
        if transition.acted_by == "receiving_commune":
            return case.pending_handover_id is not None and case.pending_handover_id in commune_reach(user)
        return owning_commune_id(definition, case) in commune_reach(user)
    return True


def may_complete(user: User, task: Task, definition: WorkflowDefinition | None = None) -> bool:
    """The assigned agency's staff, or the commune for its committee's tasks; a task the workflow
    gives to one role (the chair's decisions) only to that role."""
    template = definition.tasks.get(task.template) if definition is not None else None
    if template is not None and template.role is not None and user.role != template.role:
        return False
    if user.role == "agency_staff":
        return user.agency_id == task.agency_id
    if user.role in COMMUNE_ROLES:
        agency: Agency = task.agency
        return agency.kind == "commune_committee" and agency.org_unit_id == user.org_unit_id
    return False


def may_open_case(user: User) -> bool:
    if user.role in COMMUNE_ROLES:
        return True
    return (
        user.role == "agency_staff"
        and user.agency is not None
        and user.agency.kind in CASE_CREATOR_AGENCY_KINDS
    )


def may_open_case_in(user: User, commune: OrgUnit) -> bool:
    """Officers record reports for their own commune; hotline and police for their area."""
    if user.role in COMMUNE_ROLES:
        return commune.id == user.org_unit_id
    if user.role == "agency_staff" and user.agency is not None:
        # A provincial hotline serves every commune below it; a police post its own area.
        return commune.is_within(user.agency.org_unit) or commune.id == user.agency.org_unit_id
    return False


def may_read_dossier(user: User, case: Case) -> bool:
    """The forms, documents and attachments of a case the caller can already see: the communes
    handling it and their supervisors. Agency staff work from their tasks; the dossier holds
    the informant and every other agency's part (the contract's privacy rule)."""
    return user.role in COMMUNE_ROLES or user.role == "supervisor"


def may_write_dossier(user: User, case: Case) -> bool:
    """The officer or chair of the case's incident or residence commune writes its forms."""
    return user.role in COMMUNE_ROLES and user.org_unit_id in (
        case.incident_commune_id,
        case.residence_commune_id,
    )
