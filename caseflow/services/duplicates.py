"""The same child reported again: earlier cases whose child has the same name (ignoring
diacritics, case and spacing), the same birth date, and a commune in common.

Names are compared in Python, not in SQL: the child's identity may be stored encrypted, and a
plain searchable copy of it would defeat that. The candidates are the children of the few
cases of the same communes; only their ids leave this module, never a name.
"""

from __future__ import annotations

import unicodedata

from rapidfuzz import fuzz
from sqlalchemy import or_, select

from caseflow.extensions import db
from caseflow.models import Case, Child, User
from caseflow.services import access

# Two spellings of one name score at least this (0-100) once diacritics and spaces are gone:
# "Nguyễn Văn An" and "nguyen van  an" are 100, "Nguyễn Văn Anh" 96, "Trần Văn An" far below.
SIMILARITY = 92


def name_key(name: str | None) -> str:
    """'Nguyễn  Thị Đào' -> 'nguyenthidao': no diacritics (đ included), no case, no spaces."""
    text = (name or "").replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch)).casefold()


def earlier_cases(case: Case) -> list[int]:
    """Ids of other cases of the same child, oldest first."""
    child = case.child
    if child is None or child.date_of_birth is None:
        return []
    key = name_key(child.full_name)
    if not key:
        return []
    communes = {case.incident_commune_id, case.residence_commune_id}
    rows = db.session.execute(
        select(Case.id, Child)
        .join(Child, Child.case_id == Case.id)
        .where(
            Case.id != case.id,
            or_(Case.incident_commune_id.in_(communes), Case.residence_commune_id.in_(communes)),
        )
        .order_by(Case.received_at, Case.id)
    ).all()
    return [
        case_id
        for case_id, other in rows
        if other.date_of_birth == child.date_of_birth
        and fuzz.ratio(key, name_key(other.full_name)) >= SIMILARITY
    ]


def visible_earlier_references(user: User, case: Case) -> list[str]:
    """The references shown as "possible earlier report": only to those who may see this child,
    and only of earlier cases they may open themselves (another commune's case stays unnamed)."""
    ids = case.related_case_ids or []
    if not ids or not access.can_see_identity(user, case):
        return []
    return list(
        db.session.scalars(
            select(Case.reference).where(Case.id.in_(ids), access.case_scope(user)).order_by(Case.id)
        )
    )
