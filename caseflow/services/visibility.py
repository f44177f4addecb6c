"""What of a case each role sees: one policy for the API's JSON and the pages alike.

Decree 56 Art. 33 and the 2025 data law limit the identity to the bodies handling the case.
Agency staff see their own tasks and what those need (the report, the child while their task
is open), never the informant, other agencies' tasks and outcomes, the verification
findings, the plan or the audit trail. Supervisors oversee without the identity.
Serializers and templates ask `case_view(user, case)` and never decide it themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from caseflow.models import Case, Task, User
from caseflow.services import access

# Fields of the case record beyond the list form, and who may not see them.
CASE_FIELDS = (
    "summary",
    "serious_harm",
    "caregiver_is_abuser",
    "findings",
    "plan",
    "criminal_referral",
    "police_case_number",
    "pending_handover",
    "proceedings",
    "closure_reason",
    "data",
    "state_entered_at",
)
# `data`: trigger fields kept on the case (`store: data`), decisions agencies do not need.
HIDDEN_FROM_AGENCIES = frozenset({"findings", "plan", "closure_reason", "data", "proceedings"})


@dataclass(frozen=True)
class CaseView:
    """What one user sees of one case."""

    fields: frozenset[str]
    identity: bool  # the child: name, birth date, address, school, family
    informant: bool
    trail: bool  # the audit trail, notes included
    only_agency_id: int | None  # tasks of this agency only (None: every task)

    # The pages' words for the same facts (templates ask `view.child`, `view.casework`...).
    @property
    def child(self) -> bool:
        return self.identity

    @property
    def family(self) -> bool:  # the family's situation is as protected as the child
        return self.identity

    @property
    def casework(self) -> bool:  # findings, plan, notes and the trail: the bodies running the case
        return self.trail

    @property
    def agency_only(self) -> bool:
        return self.only_agency_id is not None

    def shows(self, name: str) -> bool:
        return name in self.fields

    def tasks(self, case: Case) -> list[Task]:
        if self.only_agency_id is None:
            return list(case.tasks)
        return [t for t in case.tasks if t.agency_id == self.only_agency_id]


def case_view(user: User, case: Case) -> CaseView:
    """The view of a case the caller can already reach (access.case_scope decided that)."""
    identity = access.can_see_identity(user, case)
    if user.role == "agency_staff":
        # The criminal proceedings only to the agency that may see the child (the investigating police).
        hidden = HIDDEN_FROM_AGENCIES - ({"proceedings"} if identity else set())
        return CaseView(
            fields=frozenset(CASE_FIELDS) - hidden,
            identity=identity,
            informant=False,
            trail=False,
            only_agency_id=user.agency_id or -1,
        )
    return CaseView(
        fields=frozenset(CASE_FIELDS),
        identity=identity,
        informant=identity and user.role in access.COMMUNE_ROLES,
        trail=True,
        only_agency_id=None,
    )
