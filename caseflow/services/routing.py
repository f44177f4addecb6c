"""Which agency owns a task: the agency of the right kind nearest the case's commune."""

from __future__ import annotations

from sqlalchemy import bindparam, select

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
    raise Conflict.because("no_agency", kind=kind, commune=commune.code)


def agencies_for(wanted: list[tuple[OrgUnit, str]]) -> dict[tuple[int, str], Agency]:
    """`agency_for` for several (commune, kind) pairs at once, keyed by (commune id, kind).

    A transition routes up to three tasks: the communes' own agencies of those kinds come in
    one query, and only a commune without one walks up the tree. With none anywhere, the
    Conflict names the first such pair in `wanted` (the procedure's order of its tasks).
    """
    found: dict[tuple[int, str], Agency] = {}
    params = {"units": sorted({unit.id for unit, _ in wanted}), "kinds": sorted({kind for _, kind in wanted})}
    for agency in db.session.scalars(_OWN_AGENCIES, params):
        found.setdefault((agency.org_unit_id, agency.kind), agency)
    return {(unit.id, kind): found.get((unit.id, kind)) or agency_for(kind, unit) for unit, kind in wanted}


# Built once: building and keying a statement anew costs as much CPU as running it.
_OWN_AGENCIES = (
    select(Agency)
    .where(
        Agency.org_unit_id.in_(bindparam("units", expanding=True)),
        Agency.kind.in_(bindparam("kinds", expanding=True)),
    )
    .order_by(Agency.id)
)
