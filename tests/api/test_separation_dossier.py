"""The separation decision is also its annex form: `separate` records Mẫu 07, and the document
prints the decision as the chair took it."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.api.test_branches import VERIFY_ABUSER, _decision


def test_separate_records_form_07_from_the_decision(api, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_ABUSER)
    fire(case, "separate", "chair_a@test.vn", _decision(10, decision_number="12/QĐ-UBND"))
    forms = api.get(f"/api/v1/cases/{case['id']}/forms", "chair_a@test.vn").get_json()["items"]
    [mau_07] = [f for f in forms if f["code"] == "mau_07"]
    assert mau_07["revision"] == 1
    data = mau_07["data"]
    assert data["decision_number"] == "12/QĐ-UBND"
    assert data["ground"] == "caregiver_abuser"
    assert data["alternative_carer"]["name"] == "Bà ngoại"
    assert data["shelter"] == "Nhà tạm lánh xã A"
    pdf = api.get(f"/api/v1/cases/{case['id']}/documents/mau_07.pdf", "chair_a@test.vn")
    assert pdf.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "12/QĐ-UBND" in text and "Bà ngoại" in text


def test_a_supervisor_sees_form_07_without_where_the_child_is_sheltered(api, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_ABUSER)
    fire(case, "separate", "chair_a@test.vn", _decision(10))
    forms = api.get(f"/api/v1/cases/{case['id']}/forms", "supervisor_p@test.vn").get_json()["items"]
    [mau_07] = [f for f in forms if f["code"] == "mau_07"]
    assert "shelter" not in mau_07["data"] and "alternative_carer" not in mau_07["data"]
    assert mau_07["data"]["decision_number"] == "07/QĐ-UBND"
