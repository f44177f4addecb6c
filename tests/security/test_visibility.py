"""Every role sees the same of a case through the API as on its pages (one visibility policy).

Before: agency staff read the informant's name and phone, other agencies' outcomes and the
whole trail through the API, which their pages hid.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import new_case_payload
from tests.web.conftest import Browser

CHILD = "Zxchildname Khuyen"
INFORMANT_PHONE = "0977123456"
FINDINGS = "Zxfindings seen at home"
NOTE = "Zxnote from the officer"
POLICE_OUTCOME = "Zxpolice outcome done"
SUMMARY = "Zxsummary of the report"

# marker -> roles (World keys) that must see it; everyone else must not.
EXPECTED = {
    # The police task is done by then: the police keep their outcome but no longer the child.
    CHILD: {"officer_a", "chair_a", "health_a"},
    INFORMANT_PHONE: {"officer_a", "chair_a"},
    FINDINGS: {"officer_a", "chair_a", "supervisor_p"},
    NOTE: {"officer_a", "chair_a", "supervisor_p"},
    POLICE_OUTCOME: {"officer_a", "chair_a", "supervisor_p", "police_a"},
    SUMMARY: {"officer_a", "chair_a", "supervisor_p", "police_a", "health_a"},
}
READERS = ("officer_a", "chair_a", "supervisor_p", "police_a", "health_a")
OUTSIDERS = ("officer_b", "education_a", "supervisor_d", "admin")


@pytest.fixture
def backend() -> str:
    return "sqlite"  # pages are the same on both backends; the policy is not a backend matter


@pytest.fixture
def case(api, world):
    payload = new_case_payload("A", summary=SUMMARY)
    payload["child"]["full_name"] = CHILD
    payload["informant"]["phone"] = INFORMANT_PHONE
    body = api.post("/api/v1/cases", "officer_a@test.vn", json=payload).get_json()
    data = {"risk_level": "high", "serious_harm": True, "caregiver_is_abuser": False, "findings": FINDINGS}
    resp = api.post(
        f"/api/v1/cases/{body['id']}/transitions",
        "officer_a@test.vn",
        json={"trigger": "verify", "version": body["version"], "data": data},
    )
    assert resp.status_code == 200, resp.get_json()
    assert (
        api.post(f"/api/v1/cases/{body['id']}/notes", "officer_a@test.vn", json={"text": NOTE}).status_code
        == 201
    )
    # Both police tasks (emergency protection and, Art. 31, the evidence) are done by then.
    for police in [t for t in resp.get_json()["tasks"] if t["agency"] == "A-police"]:
        done = api.post(
            f"/api/v1/tasks/{police['id']}/complete", "police_a@test.vn", json={"outcome": POLICE_OUTCOME}
        )
        assert done.status_code == 200, done.get_json()
    return body


def _api_text(api, who: str, case_id: int) -> tuple[int, str]:
    seen = []
    detail = api.get(f"/api/v1/cases/{case_id}", f"{who}@test.vn")
    seen.append(detail.get_json())
    trail = api.get(f"/api/v1/cases/{case_id}/events", f"{who}@test.vn")
    if trail.status_code == 200:
        seen.append(trail.get_json())
    tasks = api.get("/api/v1/tasks", f"{who}@test.vn")
    if tasks.status_code == 200:
        seen.append([t for t in tasks.get_json()["items"] if t["case_id"] == case_id])
    return detail.status_code, json.dumps(seen, ensure_ascii=False)


def _page_text(app, who: str, case_id: int) -> tuple[int, str]:
    browser = Browser(app.test_client())
    assert browser.login(f"{who}@test.vn").status_code == 302
    page = browser.get(f"/cases/{case_id}")
    text = page.get_data(as_text=True)
    tasks = browser.get("/tasks")
    if tasks.status_code == 200:
        text += tasks.get_data(as_text=True)
    return page.status_code, text


def test_each_role_sees_the_same_fields_through_the_api_as_on_its_pages(app, api, case):
    for who in READERS:
        api_status, api_text = _api_text(api, who, case["id"])
        page_status, page_text = _page_text(app, who, case["id"])
        assert api_status == 200 and page_status == 200, who
        for marker, roles in EXPECTED.items():
            expected = who in roles
            assert (marker in api_text) == expected, f"API: {who} {'misses' if expected else 'sees'} {marker}"
            assert (marker in page_text) == expected, (
                f"page: {who} {'misses' if expected else 'sees'} {marker}"
            )


def test_outsiders_reach_the_case_neither_way(app, api, case):
    for who in OUTSIDERS:
        api_status, api_text = _api_text(api, who, case["id"])
        page_status, _ = _page_text(app, who, case["id"])
        assert api_status == 404 if who != "admin" else api_status in (403, 404)
        assert page_status in (403, 404), who
        assert not any(marker in api_text for marker in EXPECTED), who


def test_agency_staff_may_not_read_the_audit_trail_through_the_api(api, case):
    resp = api.get(f"/api/v1/cases/{case['id']}/events", "health_a@test.vn")
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"]
    body = api.get(f"/api/v1/cases/{case['id']}", "health_a@test.vn").get_json()
    assert "informant" not in body and "findings" not in body
    assert {t["agency"] for t in body["tasks"]} == {"A-health"}
