"""Reference lists for pickers and admin pages (org units, communes, agencies), the check of a
commune code a report or a handover names, and who the overdue ladder's words mean."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from caseflow.extensions import db
from caseflow.models import Agency, OrgUnit, User
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


class AgencyPage(NamedTuple):
    items: list[Agency]
    total: int


def find_agencies(search: str | None, unit: OrgUnit | None, page: int, per_page: int) -> AgencyPage:
    """One page of agencies by code, matching `search` in the code, name or email, of `unit`."""
    query = select(Agency)
    if search:
        needle = search.strip()
        query = query.where(
            or_(
                Agency.code.icontains(needle, autoescape=True),
                Agency.name.icontains(needle, autoescape=True),
                Agency.email.icontains(needle, autoescape=True),
            )
        )
    if unit is not None:
        query = query.where(Agency.org_unit_id == unit.id)
    total = db.session.scalar(query.with_only_columns(func.count(Agency.id))) or 0
    items = db.session.scalars(
        query.options(selectinload(Agency.org_unit))
        .order_by(Agency.code, Agency.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return AgencyPage(list(items), total)


def unit_by_code(code: str | None) -> OrgUnit | None:
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == code)) if code else None


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


@dataclass(frozen=True)
class Recipient:
    email: str
    locale: str
    unit: OrgUnit | None
    agency: bool  # the task's own agency (told "overdue"), not someone it is escalated to
    digest: bool  # this person chose a daily digest


# A ladder word (caseflow/workflow/ladder.py RECIPIENTS) other than "agency": which units, which roles.
_ROLES = {
    "commune_staff": ("officer", "chair"),
    "commune_chair": ("chair",),
}


class Directory:
    """Who a ladder word means for the commune that holds the work (a task's, or one that owes a
    report), cached for one scan: the one user lookup of every ladder."""

    def __init__(self) -> None:
        self._users: dict[tuple[int, str], list[User]] = {}
        self._agencies: dict[int, Agency] = {}

    def agency(self, agency_id: int) -> Agency:
        if agency_id not in self._agencies:
            self._agencies[agency_id] = db.session.get(Agency, agency_id)
        return self._agencies[agency_id]

    def users(self, unit_id: int, role: str) -> list[User]:
        if (unit_id, role) not in self._users:
            self._users[unit_id, role] = list(
                db.session.scalars(
                    select(User)
                    .where(User.org_unit_id == unit_id, User.role == role, User.active.is_(True))
                    .order_by(User.id)
                )
            )
        return self._users[unit_id, role]

    def resolve(
        self, words: tuple[str, ...], commune: OrgUnit, agency_id: int | None = None
    ) -> list[Recipient]:
        """Each person once, in the order the words name them. "agency" is `agency_id`'s mailbox
        (work with no agency, a report, has none to tell)."""
        out: list[Recipient] = []
        seen: set[str] = set()

        def add(recipient: Recipient) -> None:
            if recipient.email and recipient.email not in seen:
                seen.add(recipient.email)
                out.append(recipient)

        above = commune.ancestors()
        for word in words:
            if word == "agency":
                if agency_id is not None:
                    agency = self.agency(agency_id)
                    add(Recipient(agency.email, agency.locale or "vi", commune, True, False))
                continue
            if word in _ROLES:
                units, roles = [commune], _ROLES[word]
            elif word == "district_supervisors":
                units, roles = [u for u in above if u.level == "district"], ("supervisor",)
            elif word == "province_supervisors":
                units, roles = [u for u in above if u.level == "province"], ("supervisor",)
            else:  # supervisors: every unit above the commune, nearest first
                units, roles = above, ("supervisor",)
            for unit in units:
                for role in roles:
                    for user in self.users(unit.id, role):
                        add(Recipient(user.email, user.locale or "vi", unit, False, bool(user.daily_digest)))
        return out
