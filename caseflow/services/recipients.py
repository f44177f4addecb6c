"""Who receives a case notification, from the recipients its workflow file declares.

A notification in the file lists `recipients:` such as `owning_commune.chair`,
`residence_commune.officer`, `province.supervisor`, `task_agencies` or `reporting_agency`
(the vocabulary is checked by caseflow/workflow/definition.py); this module turns them into
addresses for the case as it stands after the transition. Nothing here names a notification.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import Case, OrgUnit, User
from caseflow.services import access
from caseflow.workflow.definition import NotificationDef, WorkflowDefinition


@dataclass(frozen=True)
class Recipient:
    email: str
    locale: str


def _unit(definition: WorkflowDefinition, case: Case, scope: str) -> OrgUnit | None:
    """The unit a scope names for this case: one of its communes, or a level above the owner."""
    owner_id = access.owning_commune_id(definition, case)
    owner = case.incident_commune if owner_id == case.incident_commune_id else case.residence_commune
    if scope == "owning_commune":
        return owner
    if scope == "incident_commune":
        return case.incident_commune
    if scope == "residence_commune":
        return case.residence_commune
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
    users: dict[tuple[int, str], list[User]] = {}
    if wanted:
        query = select(User).where(User.org_unit_id.in_(wanted), User.active.is_(True)).order_by(User.id)
        for user in db.session.scalars(query):
            if user.role in wanted[user.org_unit_id]:
                users.setdefault((user.org_unit_id, user.role), []).append(user)
    for what, target in order:
        if what == "agency":
            if target.email and target.email not in found:
                found[target.email] = Recipient(target.email, target.locale or "vi")
        else:
            for user in users.get(target, []):
                found.setdefault(user.email, Recipient(user.email, user.locale or "vi"))
    return list(found.values())


__all__ = ["Recipient", "recipients_of"]
