"""The dossier pages: each form drawn from its declaration, errors beside each field, the case
page's dossier section, documents and attachments through the session."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from caseflow.extensions import db
from caseflow.models import FormRecord
from caseflow.services import intake
from caseflow.workflow import current_forms
from tests.conftest import new_case_payload

MEETING = {
    "f-held_at": "2026-11-30T09:00",
    "f-chaired_by": "Nguyễn Văn Chủ",
    "f-participants-count": "3",
    "f-participants-0-name": "Trần Thị Hoa",
    "f-participants-0-body": "Trạm y tế",
    "f-child_views": "Cháu muốn ở với bà ngoại",
    "f-needs_agreed": "Khám sức khỏe, tư vấn tâm lý",
}


def _case(world) -> int:
    return intake.open_case(world.users["officer_a"], new_case_payload()).id


def _latest(case_id: int, code: str) -> FormRecord | None:
    db.session.rollback()
    rows = (
        db.session.query(FormRecord).filter_by(case_id=case_id, code=code).order_by(FormRecord.revision).all()
    )
    return rows[-1] if rows else None


def test_the_case_page_links_every_form_and_the_dossier(web, world):
    case_id = _case(world)
    page = web("officer_a").text(f"/cases/{case_id}")
    assert 'id="dossier-h"' in page
    for code in current_forms().forms:
        assert f"/cases/{case_id}/forms/{code}" in page
    assert f"/cases/{case_id}/documents/dossier.pdf" in page
    assert f"/cases/{case_id}/documents/mau_01.pdf" in page  # recorded at intake
    needed = re.findall(r'<li class="needed">\s*<a class="form-link" href="[^"]*/forms/(\w+)"', page)
    assert needed == ["mau_01", "mau_02"]  # what the step the case is in asks for


def test_agency_staff_see_no_dossier_on_the_case_page(web, world, app):
    from caseflow.services import transition
    from caseflow.workflow import current_engine

    case_id = _case(world)
    from caseflow.models import Case

    case = db.session.get(Case, case_id)
    verify = {"risk_level": "high", "serious_harm": True, "caregiver_is_abuser": False, "findings": "Có"}
    transition.fire(current_engine(), case, world.users["officer_a"], "verify", case.version, verify)
    page = web("police_a").text(f"/cases/{case_id}")
    assert 'id="dossier-h"' not in page
    assert web("police_a").get(f"/cases/{case_id}/forms/mau_01").status_code == 403


def test_a_form_page_is_drawn_from_the_declaration_in_the_users_language(web, world):
    case_id = _case(world)
    officer = web("officer_a")
    page = officer.text(f"/cases/{case_id}/forms/needs_meeting")
    form = current_forms().forms["needs_meeting"]
    for spec in form.fields:
        assert spec.label["vi"] in page, spec.name
    assert 'name="f-participants-0-name"' in page
    officer.post("/language", {"locale": "en"}, token_from=f"/cases/{case_id}")
    page = officer.text(f"/cases/{case_id}/forms/needs_meeting")
    assert "The child&#39;s views" in page or "The child's views" in page


def test_saving_a_form_page_stores_a_revision_and_returns_to_the_case(web, world):
    case_id = _case(world)
    officer = web("officer_a")
    url = f"/cases/{case_id}/forms/needs_meeting"
    resp = officer.post(url, {**MEETING, "revision": "0"}, token_from=url)
    assert resp.status_code == 302 and resp.location.endswith(f"/cases/{case_id}#dossier-h")
    record = _latest(case_id, "needs_meeting")
    assert record.revision == 1 and record.data["participants"] == [
        {"name": "Trần Thị Hoa", "body": "Trạm y tế"}
    ]
    assert record.data["held_at"] == "2026-11-30T02:00:00+00:00"  # local time kept as UTC
    page = officer.text(url)
    assert 'value="2026-11-30T09:00"' in page and "Trần Thị Hoa" in page


def test_errors_appear_beside_each_field_and_nothing_is_stored(web, world):
    case_id = _case(world)
    officer = web("officer_a")
    url = f"/cases/{case_id}/forms/needs_meeting"
    bad = {
        **MEETING,
        "f-child_views": "",
        "f-participants-1-body": "Công an",
        "f-held_at": "hôm qua",
        "revision": "0",
    }
    resp = officer.post(url, bad, token_from=url)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    for field in ("f-child_views", "f-participants-1-name", "f-held_at"):
        assert f'id="{field}-error"' in page, field
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', page), field
    assert "Công an" in page  # what was typed is kept
    assert _latest(case_id, "needs_meeting") is None


def test_a_stale_form_page_is_a_409_showing_the_newer_revision(web, world):
    case_id = _case(world)
    officer, chair = web("officer_a"), web("chair_a")
    url = f"/cases/{case_id}/forms/needs_meeting"
    token = re.search(r'name="csrf_token" value="([^"]+)"', chair.text(url)).group(1)
    officer.post(url, {**MEETING, "revision": "0"}, token_from=url)
    resp = chair.client.post(
        url, data={**MEETING, "f-child_views": "Khác", "revision": "0", "csrf_token": token}
    )
    assert resp.status_code == 409
    assert "Cháu muốn ở với bà ngoại" in resp.get_data(as_text=True)
    assert _latest(case_id, "needs_meeting").revision == 1


def test_documents_and_attachments_through_the_pages(web, world):
    case_id = _case(world)
    officer = web("officer_a")
    resp = officer.get(f"/cases/{case_id}/documents/mau_01.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages))
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Bé Thử Nghiệm" in text
    page_url = f"/cases/{case_id}"
    resp = officer.post(
        f"/cases/{case_id}/attachments",
        {"file": (io.BytesIO(resp.data), "scan.pdf"), "kind": "signed_form", "form_code": "mau_01"},
        token_from=page_url,
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    page = officer.text(page_url)
    assert "mau_01-1.pdf" in page and "SHA-256" in page
    resp = officer.post(
        f"/cases/{case_id}/attachments",
        {"file": (io.BytesIO(b"MZ not a pdf"), "scan.pdf"), "kind": "evidence"},
        token_from=page_url,
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    assert "Chỉ đính kèm được tệp PDF, JPEG, PNG và Word (DOCX)." in officer.text(page_url)


def test_several_choices_are_ticked_and_kept_in_the_declarations_order(web, world):
    case_id = _case(world)
    officer = web("officer_a")
    url = f"/cases/{case_id}/forms/mau_06"
    form = {
        "f-reviewed_on": "2026-11-30",
        "f-summary": "Trẻ ổn định",
        "f-services": ["psychological_therapy", "medical_care"],
        "revision": "0",
    }
    assert officer.post(url, form, token_from=url).status_code == 302
    assert _latest(case_id, "mau_06").data["services"] == ["medical_care", "psychological_therapy"]
    page = officer.text(url)
    assert re.search(r'name="f-services" value="medical_care" checked', page)
    assert not re.search(r'name="f-services" value="legal_aid" checked', page)


def test_a_supervisor_reads_a_form_without_the_identity_and_cannot_save_it(web, world):
    case_id = _case(world)
    page = web("supervisor_p").text(f"/cases/{case_id}/forms/mau_01")
    assert "Bé Thử Nghiệm" not in page and "Người Báo" not in page
    assert "Thông tin được bảo vệ" in page
    assert '<fieldset class="form-body" disabled>' in page and 'type="submit">Lưu' not in page
    url = f"/cases/{case_id}/forms/mau_01"
    resp = web("supervisor_p").post(url, {"f-what_happened": "x", "revision": "1"}, token_from=url)
    assert resp.status_code == 403
