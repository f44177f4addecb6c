"""Fixtures for the security tests: a case with identity that is easy to look for."""

from __future__ import annotations

import pytest

from tests.conftest import new_case_payload

CHILD_NAME = "Hoàng Thị Mai Khuê"
CHILD_ADDRESS = "Ngõ 17 Phố Khuê Trung"
INFORMANT_NAME = "Lương Văn Báo Tin"
INFORMANT_PHONE = "0912345678"
NOTE_TEXT = "Bà ngoại Lương Thị Note nói cháu sợ về nhà"
SECRETS = (CHILD_NAME, CHILD_ADDRESS, INFORMANT_NAME, INFORMANT_PHONE, NOTE_TEXT)


@pytest.fixture
def identity_case(api, world):
    """A case opened with a findable identity, verified with findings and with a note."""
    payload = new_case_payload(
        "A",
        summary=f"Hàng xóm báo {CHILD_NAME} bị đánh",
        child={
            "full_name": CHILD_NAME,
            "date_of_birth": "2015-03-02",
            "sex": "female",
            "address": CHILD_ADDRESS,
            "school": "Trường Tiểu học Khuê",
            "family": "Mẹ: Hoàng Thị Family",
        },
        informant={"name": INFORMANT_NAME, "phone": INFORMANT_PHONE, "consent": True, "relation": "hàng xóm"},
    )
    resp = api.post("/api/v1/cases", "officer_a@test.vn", json=payload)
    assert resp.status_code == 201, resp.get_json()
    case = resp.get_json()
    resp = api.post(
        f"/api/v1/cases/{case['id']}/transitions",
        "officer_a@test.vn",
        json={
            "trigger": "verify",
            "version": case["version"],
            "data": {
                "risk_level": "high",
                "serious_harm": True,
                "caregiver_is_abuser": False,
                "findings": f"Đã gặp {CHILD_NAME} tại nhà",
            },
        },
    )
    assert resp.status_code == 200, resp.get_json()
    resp = api.post(f"/api/v1/cases/{case['id']}/notes", "officer_a@test.vn", json={"text": NOTE_TEXT})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json() and api.get(f"/api/v1/cases/{case['id']}", "officer_a@test.vn").get_json()
