"""Org units, agencies and users: the reference data administrators keep."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from caseflow.extensions import db
from caseflow.models import Agency, OrgUnit, User
from caseflow.models.orgs import AGENCY_KINDS, LEVELS
from caseflow.models.people import ROLES
from caseflow.services import limits, passwords
from caseflow.services.errors import Conflict, Why
from caseflow.services.validation import Fields

PARENT_LEVEL = {"province": None, "district": ("province",), "commune": ("province", "district")}


def unit_by_code(code: str | None) -> OrgUnit | None:
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == code)) if code else None


def agency_by_code(code: str | None) -> Agency | None:
    return db.session.scalar(select(Agency).where(Agency.code == code)) if code else None


def create_org_unit(payload: object) -> OrgUnit:
    fields = Fields(payload)
    code = fields.string("code", required=True, max_length=limits.CODE_CHARS)
    if code and ("/" in code or any(ch.isspace() for ch in code)):
        # Paths are codes joined by "/": "A/X" would graft itself into A's subtree.
        fields.error("code", Why("code_format"))
    name = fields.string("name", required=True)
    level = fields.choice("level", LEVELS, required=True)
    parent_code = fields.data.get("parent")
    valid_from = fields.day("valid_from")
    valid_to = fields.day("valid_to")
    abbrev = fields.string("abbrev", max_length=8)
    parent = None
    if parent_code is not None:
        parent = unit_by_code(parent_code) if isinstance(parent_code, str) else None
        if parent is None:
            fields.error("parent", Why("unknown_unit"))
    if level and not fields.errors.get("parent"):
        allowed = PARENT_LEVEL[level]
        if allowed is None and parent is not None:
            fields.error("parent", Why("province_parent"))
        elif allowed is not None and (parent is None or parent.level not in allowed):
            fields.error("parent", Why("wrong_parent", level=level, allowed=" or ".join(allowed)))
    if code and unit_by_code(code):
        fields.error("code", Why("already_used"))
    if valid_from and valid_to and valid_to < valid_from:
        fields.error("valid_to", Why("end_before_start"))
    fields.raise_if_any()
    with _unique_write("code"):
        unit = add_org_unit(
            code, name, level, parent, valid_from=valid_from, valid_to=valid_to, abbrev=abbrev
        )
    return unit


def add_org_unit(
    code: str,
    name: str,
    level: str,
    parent: OrgUnit | None,
    *,
    valid_from: date | None = None,
    valid_to: date | None = None,
    abbrev: str | None = None,
) -> OrgUnit:
    unit = OrgUnit(
        code=code,
        name=name,
        level=level,
        parent=parent,
        abbrev=abbrev,
        path=f"{parent.path if parent else '/'}{code}/",
        valid_from=valid_from,
        valid_to=valid_to,
    )
    db.session.add(unit)
    db.session.flush()
    return unit


def create_agency(payload: object) -> Agency:
    fields = Fields(payload)
    code = fields.string("code", required=True, max_length=limits.AGENCY_CODE_CHARS)
    name = fields.string("name", required=True)
    kind = fields.choice("kind", AGENCY_KINDS, required=True)
    email = fields.string("email", required=True, max_length=limits.EMAIL_CHARS)
    unit = unit_by_code(fields.data.get("org_unit")) if isinstance(fields.data.get("org_unit"), str) else None
    if unit is None:
        fields.error("org_unit", Why("unknown_unit"))
    if email and ("@" not in email or " " in email):
        fields.error("email", Why("not_email"))
    if code and agency_by_code(code):
        fields.error("code", Why("already_used"))
    fields.raise_if_any()
    agency = Agency(code=code, name=name, kind=kind, org_unit=unit, email=email)
    with _unique_write("code"):
        db.session.add(agency)
    return agency


@contextmanager
def _unique_write(field: str) -> Iterator[None]:
    """Write and commit; a value taken by a concurrent request at the same moment is a 409, not a 500."""
    try:
        yield
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(
            f"That {field} was registered at the same moment", {field: Why("already_used")}
        ) from exc


def create_user(payload: object) -> User:
    fields = Fields(payload)
    email = fields.string("email", required=True, max_length=limits.EMAIL_CHARS)
    name = fields.string("name", required=True)
    password = fields.data.get("password")
    role = fields.choice("role", ROLES, required=True)
    locale = fields.choice("locale", ("vi", "en")) or "vi"
    weak = passwords.problem(
        password, user_inputs=tuple(str(fields.data.get(k) or "") for k in ("email", "name"))
    )
    if weak:
        fields.error("password", weak)
    unit_code, agency_code = fields.data.get("org_unit"), fields.data.get("agency")
    unit = unit_by_code(unit_code) if isinstance(unit_code, str) else None
    agency = agency_by_code(agency_code) if isinstance(agency_code, str) else None
    if unit_code is not None and unit is None:
        fields.error("org_unit", Why("unknown_unit"))
    if agency_code is not None and agency is None:
        fields.error("agency", Why("unknown_agency"))
    if email and "@" not in email:
        fields.error("email", Why("not_email"))
    if role in ("officer", "chair") and (unit is None or unit.level != "commune"):
        fields.error("org_unit", Why("commune_role_unit"))
    if role == "supervisor" and unit is None:
        fields.error("org_unit", Why("supervisor_unit"))
    if role == "agency_staff":
        if agency is None:
            fields.error("agency", Why("agency_staff_agency"))
        elif unit is None:
            unit = agency.org_unit
    if email and db.session.scalar(select(User.id).where(User.email == email.lower())):
        fields.error("email", Why("already_registered"))
    fields.raise_if_any()
    user = User(email=email.lower(), name=name, role=role, org_unit=unit, agency=agency, locale=locale)
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.commit()
    except Exception as exc:  # a concurrent registration of the same email
        db.session.rollback()
        raise Conflict(
            "That email was registered at the same moment", {"email": Why("already_registered")}
        ) from exc
    return user
