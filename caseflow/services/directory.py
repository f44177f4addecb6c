"""Reference lists for pickers and admin pages (org units, communes, agencies), and the check
of a commune code a report or a handover names."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from caseflow.extensions import db
from caseflow.models import Agency, OrgUnit
from caseflow.models.types import utcnow
from caseflow.services.errors import Why
from caseflow.services.validation import Fields
from caseflow.workflow.clock import LOCAL_TZ


def org_units() -> list[OrgUnit]:
    """The whole tree in path order, so a parent comes right before its children."""
    return list(db.session.scalars(select(OrgUnit).order_by(OrgUnit.path)))


def current_communes() -> list[OrgUnit]:
    """Communes that still exist today: merged ones keep their cases but take no new reports."""
    today = utcnow().astimezone(LOCAL_TZ).date()
    return list(
        db.session.scalars(
            select(OrgUnit)
            .where(OrgUnit.level == "commune", or_(OrgUnit.valid_to.is_(None), OrgUnit.valid_to >= today))
            .order_by(OrgUnit.name)
        )
    )


def agencies() -> list[Agency]:
    return list(
        db.session.scalars(select(Agency).options(selectinload(Agency.org_unit)).order_by(Agency.code))
    )


def agencies_serving(unit: OrgUnit) -> list[Agency]:
    """Agencies of a commune and of the units above it (a provincial hotline also takes measures)."""
    ids = [unit.id, *(u.id for u in unit.ancestors())]
    return list(
        db.session.scalars(
            select(Agency).where(Agency.org_unit_id.in_(ids)).order_by(Agency.org_unit_id.desc(), Agency.name)
        )
    )


def commune_by_code(fields: Fields, name: str, code: object) -> OrgUnit | None:
    """The current commune `code` names, or None with the error recorded against `name`."""
    if code is None:
        return None
    unit = (
        db.session.scalar(select(OrgUnit).where(OrgUnit.code == str(code))) if isinstance(code, str) else None
    )
    if unit is None or unit.level != "commune":
        fields.error(name, Why("unknown_commune"))
        return None
    # A merged commune (2025 reform) takes no new cases from the day it closed.
    if unit.successor_id is not None or (
        unit.valid_to is not None and unit.valid_to < utcnow().astimezone(LOCAL_TZ).date()
    ):
        fields.error(name, Why("commune_gone"))
        return None
    return unit


def names_by_code(codes: set[str]) -> dict[str, str]:
    """Agency and unit names for codes kept in a plan or the trail, so pages never show a code."""
    if not codes:
        return {}
    names = dict(db.session.execute(select(Agency.code, Agency.name).where(Agency.code.in_(codes))).all())
    names.update(db.session.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.code.in_(codes))).all())
    return names
