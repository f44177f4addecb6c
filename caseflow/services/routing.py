"""Which agency owns a task: the agency of the right kind nearest the case's commune.

A commune merged away (the 2025 reform) is served by its successor's agencies; among a unit's
agencies of one kind its own come before those a merger brought in (`moved_from_id`)."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from caseflow.extensions import db
from caseflow.models import Agency, OrgUnit
from caseflow.services.errors import Conflict
from caseflow.services.succession import current_unit

# A unit's own agencies of a kind first, then those a merger moved in, oldest first.
_PREFERENCE = (Agency.moved_from_id.is_not(None), Agency.id)


def agency_for(kind: str, commune: OrgUnit) -> Agency:
    """The commune's own agency of that kind, else the nearest one up the tree
    (a district police office serves communes without a post)."""
    unit: OrgUnit | None = current_unit(commune)
    while unit is not None:  # walk up only as far as needed: most communes have their own
        agency = db.session.scalars(
            select(Agency).where(Agency.org_unit_id == unit.id, Agency.kind == kind).order_by(*_PREFERENCE)
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
    serving = {unit.id: current_unit(unit) for unit, _ in wanted}  # no query unless one was merged
    params = {
        "units": sorted({u.id for u in serving.values()}),
        "kinds": sorted({kind for _, kind in wanted}),
    }
    for agency in db.session.scalars(_OWN_AGENCIES, params):
        found.setdefault((agency.org_unit_id, agency.kind), agency)
    return {
        (unit.id, kind): found.get((serving[unit.id].id, kind)) or agency_for(kind, unit)
        for unit, kind in wanted
    }


# Built once: building and keying a statement anew costs as much CPU as running it.
_OWN_AGENCIES = (
    select(Agency)
    .where(
        Agency.org_unit_id.in_(bindparam("units", expanding=True)),
        Agency.kind.in_(bindparam("kinds", expanding=True)),
    )
    .order_by(*_PREFERENCE)
)
