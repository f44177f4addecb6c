"""Which agency owns a task: the agency of the right kind nearest the case's commune."""

from __future__ import annotations

from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import Agency, OrgUnit
from caseflow.services.errors import Conflict


def agency_for(kind: str, commune: OrgUnit, known: dict[int, dict[str, Agency]] | None = None) -> Agency:
    """The commune's own agency of that kind, else the nearest one up the tree
    (a district police office serves communes without a post).

    `known`: a dict kept by the caller for several look-ups in one change (a transition
    routes up to three tasks): each unit's agencies are then read once, all kinds together.
    """
    unit: OrgUnit | None = commune
    while unit is not None:  # walk up only as far as needed: most communes have their own
        if known is None:
            agency = db.session.scalars(
                select(Agency).where(Agency.org_unit_id == unit.id, Agency.kind == kind).order_by(Agency.id)
            ).first()
        else:
            if unit.id not in known:
                first: dict[str, Agency] = {}
                for row in db.session.scalars(
                    select(Agency).where(Agency.org_unit_id == unit.id).order_by(Agency.id)
                ):
                    first.setdefault(row.kind, row)
                known[unit.id] = first
            agency = known[unit.id].get(kind)
        if agency is not None:
            return agency
        unit = unit.parent
    raise Conflict(f"No {kind} agency serves commune {commune.code}; an administrator must add one")
