"""Which agency owns a task: the agency of the right kind nearest the case's commune."""

from __future__ import annotations

from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import Agency, OrgUnit
from caseflow.services.errors import Conflict


def agency_for(kind: str, commune: OrgUnit) -> Agency:
    """The commune's own agency of that kind, else the nearest one up the tree
    (a district police office serves communes without a post)."""
    unit: OrgUnit | None = commune
    while unit is not None:  # walk up only as far as needed: most communes have their own
        agency = db.session.scalars(
            select(Agency).where(Agency.org_unit_id == unit.id, Agency.kind == kind).order_by(Agency.id)
        ).first()
        if agency is not None:
            return agency
        unit = unit.parent
    raise Conflict(f"No {kind} agency serves commune {commune.code}; an administrator must add one")
