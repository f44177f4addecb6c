"""The demo shows post-reform Lạng Sơn: the old Chi Lăng district's communes merged, their cases moved."""

from __future__ import annotations

from sqlalchemy import select

from caseflow.demo import HISTORIC_COMMUNES, seed
from caseflow.extensions import db
from caseflow.models import Case, CaseEvent, OrgUnit, User
from caseflow.services import access


def test_the_demo_merges_the_old_chi_lang_communes_and_moves_their_open_cases(app):
    lines = list(seed())
    assert any("Thị trấn Đồng Mỏ -> Xã Chi Lăng" in line for line in lines)
    units = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    assert units["186"].valid_to is not None
    officer = db.session.scalar(select(User).where(User.email == "canbo.chilang@demo.caseflow.vn"))
    for code, _, slug, into in HISTORIC_COMMUNES:
        old = units[code]
        assert old.successor_id == units[into].id and old.valid_to.isoformat() == "2025-06-30"
        moved_officer = db.session.scalar(select(User).where(User.email == f"canbo.{slug}@demo.caseflow.vn"))
        assert moved_officer.org_unit_id == units[into].id
        # The dismissed report stays in the old commune, for history.
        [kept] = db.session.scalars(select(Case).where(Case.incident_commune_id == old.id)).all()
        assert kept.state == "closed"
    moved = db.session.scalars(
        select(Case).join(CaseEvent, CaseEvent.case_id == Case.id).where(CaseEvent.kind == "unit_merged")
    ).all()
    assert len(moved) == len(HISTORIC_COMMUNES)
    assert all(case.state == "verified" and case.received_at.year == 2025 for case in moved)
    # The new Chi Lăng officer reaches the moved cases and the old communes' history.
    visible = set(db.session.scalars(select(Case.id).where(access.case_scope(officer))))
    chi_lang_old = {units[c].id for c, _, _, into in HISTORIC_COMMUNES if into == "06253"}
    history = set(db.session.scalars(select(Case.id).where(Case.incident_commune_id.in_(chi_lang_old))))
    assert history and history <= visible
