"""Which parts of a case page a person may see: the one place the pages ask, so that the coming
visibility policy replaces these answers in one step (today they come from `access`)."""

from __future__ import annotations

from dataclasses import dataclass

from caseflow.models import Case, User
from caseflow.services import access


@dataclass(frozen=True)
class CaseView:
    child: bool  # name, age, sex, address, school (Law on Children Art. 6.11, 21)
    family: bool  # the family's situation: as protected as the child
    informant: bool  # recorded only with consent, never shown to the family or to agencies
    casework: bool  # findings, plan, notes and the trail: the bodies running the case
    agency_only: bool  # an agency sees only its own tasks on the case


def case_view(user: User, case: Case) -> CaseView:
    identity = access.can_see_identity(user, case)
    agency = user.role == "agency_staff"
    return CaseView(
        child=identity,
        family=identity,
        informant=identity and user.role in access.COMMUNE_ROLES,
        casework=not agency,
        agency_only=agency,
    )
