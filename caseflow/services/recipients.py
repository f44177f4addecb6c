"""Who receives a case notification, from the recipients its workflow file declares.

A notification in the file lists `recipients:` such as `owning_commune.chair`,
`residence_commune.officer`, `province.supervisor`, `task_agencies` or `reporting_agency`
(the vocabulary is checked by caseflow/workflow/definition.py); this module turns them into
addresses for the case as it stands after the transition. Nothing here names a notification.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm.attributes import set_committed_value

from caseflow.extensions import db
from caseflow.models import Case, OrgUnit, User
from caseflow.services import access
from caseflow.services.succession import current_unit
from caseflow.workflow.definition import NotificationDef, WorkflowDefinition


@dataclass(frozen=True)
class Recipient:
    email: str
    locale: str


def _unit(definition: WorkflowDefinition, case: Case, scope: str) -> OrgUnit | None:
    """The unit a scope names for this case: one of its communes, or a level above the owner;
    a commune merged away is answered for by its successor (its staff moved there)."""
    owner_id = access.owning_commune_id(definition, case)
    owner = current_unit(
        case.incident_commune if owner_id == case.incident_commune_id else case.residence_commune
    )
    if scope == "owning_commune":
        return owner
    if scope == "incident_commune":
        return current_unit(case.incident_commune)
    if scope == "residence_commune":
        return current_unit(case.residence_commune)
    if scope == "receiving_commune":  # asked to take the case over, until it answers
        return case.pending_handover
    load_ancestors([owner])
    return next((u for u in owner.ancestors() if u.level == scope), None)  # district | province


def recipients_of(
    definition: WorkflowDefinition, case: Case, notification: NotificationDef
) -> list[Recipient]:
    """The active users and agencies the notification goes to, each address once, in the
    order the file lists them."""
    found: dict[str, Recipient] = {}
    wanted: dict[int, set[str]] = {}  # unit id -> roles
    order: list[tuple[str, object]] = []
    for spec in notification.recipients:
        if spec == "task_agencies":
            for task in case.tasks:
                if task.status == "open":
                    order.append(("agency", task.agency))
        elif spec == "reporting_agency":
            if case.reported_by_agency is not None:
                order.append(("agency", case.reported_by_agency))
        else:
            scope, role = spec.split(".", 1)
            unit = _unit(definition, case, scope)
            if unit is not None:
                wanted.setdefault(unit.id, set()).add(role)
                order.append(("users", (unit.id, role)))
    users: dict[tuple[int, str], list[Recipient]] = {}
    if wanted:
        # The columns a mail needs, not the users as objects: loading them cost more CPU than the query.
        query = (
            select(User.org_unit_id, User.role, User.email, User.locale)
            .where(User.org_unit_id.in_(wanted), User.active.is_(True))
            .order_by(User.id)
        )
        for unit_id, role, email, locale in db.session.execute(query):
            if role in wanted[unit_id]:
                users.setdefault((unit_id, role), []).append(Recipient(email, locale or "vi"))
    for what, target in order:
        if what == "agency":
            if target.email and target.email not in found:
                found[target.email] = Recipient(target.email, target.locale or "vi")
        else:
            for recipient in users.get(target, []):
                found.setdefault(recipient.email, recipient)
    return list(found.values())


def load_ancestors(units: list[OrgUnit]) -> None:
    """Load every unit above these in one query (their paths' prefixes) and link each to its
    parent, so that `OrgUnit.ancestors` walks no further query; one parent at a time was a
    query per level."""
    wanted = [unit for unit in units if not _chain_loaded(unit)]
    prefixes = set()
    for unit in wanted:
        codes = unit.path.strip("/").split("/")
        prefixes.update("/" + "/".join(codes[:depth]) + "/" for depth in range(1, len(codes)))
    if not prefixes:
        return
    by_id = {u.id: u for u in db.session.scalars(_UNITS_BY_PATH, {"paths": sorted(prefixes)})}
    for unit in wanted:
        while unit.parent_id is not None and unit.parent_id in by_id:
            set_committed_value(unit, "parent", by_id[unit.parent_id])
            unit = by_id[unit.parent_id]


# Built once: building and keying a statement anew costs as much CPU as running it.
_UNITS_BY_PATH = select(OrgUnit).where(OrgUnit.path.in_(bindparam("paths", expanding=True)))


def _chain_loaded(unit: OrgUnit) -> bool:
    while unit.parent_id is not None:
        if "parent" not in unit.__dict__:
            return False
        unit = unit.parent
    return True


__all__ = ["Recipient", "load_ancestors", "recipients_of"]


def installation_recipients(notification: NotificationDef) -> list[Recipient]:
    """The recipients of a notification about the whole installation, not a case (the audit
    anchor's witness): `province.<role>` and `district.<role>` mean that role in every unit of
    the level; the scopes and groups that need a case name nobody here."""
    wanted: list[tuple[str, str]] = []
    for spec in notification.recipients:
        scope, _, role = spec.partition(".")
        if scope in ("province", "district") and role:
            wanted.append((scope, role))
    found: dict[str, Recipient] = {}
    for level, role in wanted:
        query = (
            select(User.email, User.locale)
            .join(OrgUnit, OrgUnit.id == User.org_unit_id)
            .where(OrgUnit.level == level, User.role == role, User.active.is_(True))
            .order_by(User.id)
        )
        for email, locale in db.session.execute(query):
            found.setdefault(email, Recipient(email, locale or "vi"))
    return list(found.values())
