"""Errors are data: the services give a code and parameters, the API says them in English,
the pages in the user's language through the catalogs, with no matching of English text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from caseflow.services.errors import Conflict, Why
from caseflow.workflow.definition import DeadlineRule

VERIFY = {"risk_level": "low", "serious_harm": False, "caregiver_is_abuser": False, "findings": "ok"}


def test_a_field_error_reads_as_its_english_text_and_keeps_its_code():
    why = Why("too_long", max=200)
    assert why == "must be at most 200 characters"
    assert (why.code, why.params) == ("too_long", {"max": 200})
    refused = Conflict.because("open_measures", count=2)
    assert (refused.message, refused.reason, refused.params) == (
        "2 plan task(s) still open",
        "open_measures",
        {"count": 2},
    )


def test_handing_over_to_the_same_commune_is_said_in_the_page_language_and_in_english_by_the_api(
    web, open_case, api
):
    case = open_case()
    url = f"/cases/{case['id']}"
    officer = web("officer_a")
    resp = officer.post(
        f"{url}/actions/handover",
        {"handover-version": case["version"], "handover-residence_commune": "A"},
        token_from=url,
    )
    assert resp.status_code == 422
    assert "Hồ sơ đã thuộc xã, phường này." in resp.get_data(as_text=True)
    by_api = api.post(
        f"/api/v1/cases/{case['id']}/transitions",
        "officer_a@test.vn",
        json={"trigger": "handover", "version": case["version"], "data": {"residence_commune": "A"}},
    ).get_json()
    assert by_api["error"]["fields"] == {"data.residence_commune": "is already the case's residence commune"}


def test_a_guard_refusal_is_explained_on_the_page_from_its_code(web, open_case, fire, api):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY)
    due = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    case = fire(
        case,
        "submit_plan",
        "officer_a@test.vn",
        {"plan": "p", "measures": [{"agency": "A-health", "description": "Check-up", "due_at": due}]},
    )
    case = fire(case, "approve_plan", "chair_a@test.vn")
    url = f"/cases/{case['id']}"
    resp = web("officer_a").post(
        f"{url}/actions/start_follow_up", {"start_follow_up-version": case["version"]}, token_from=url
    )
    assert resp.status_code == 409
    assert "Phải hoàn thành mọi biện pháp trong kế hoạch" in resp.get_data(as_text=True)
    by_api = api.post(
        f"/api/v1/cases/{case['id']}/transitions",
        "officer_a@test.vn",
        json={"trigger": "start_follow_up", "version": case["version"], "data": {}},
    )
    assert by_api.status_code == 409
    assert by_api.get_json()["error"] == {"code": "conflict", "message": "1 plan task(s) still open"}


def test_a_deadline_rule_is_a_value_that_survives_its_stored_text():
    for rule in (
        DeadlineRule(hours=12, anchor="received_at"),
        DeadlineRule(working_days=5, anchor="entered"),
        DeadlineRule(anchor="measure"),
    ):
        assert DeadlineRule.parse(rule.describe()) == rule
    assert DeadlineRule.parse("nonsense") == DeadlineRule(anchor="measure")


def test_one_permission_table_decides_pages_menus_and_the_api_alike(web, api, open_case, fire):
    """Agency staff see the overview of their agency's work on the page as through the API (the
    page used to refuse them), and neither offers them the CSV export."""
    from caseflow.services.permissions import PERMISSIONS

    case = fire(open_case(), "verify", "officer_a@test.vn", {**VERIFY, "serious_harm": True})
    police = web("police_a")
    page = police.text("/supervision")
    assert "A-police" in page or "police A" in page
    assert 'href="/supervision"' in police.text("/tasks")  # the menu offers it, from the same table
    assert police.get("/cases/export.csv").status_code == 403
    dash = api.get("/api/v1/dashboard/overdue", "police_a@test.vn")
    assert dash.status_code == 200
    assert {row["code"] for row in dash.get_json()["by_agency"]} <= {"A-police"}
    assert "agency_staff" in PERMISSIONS["see_overview"] and "agency_staff" not in PERMISSIONS["export_cases"]
    assert api.get("/api/v1/dashboard/overdue", "admin@test.vn").status_code == 403
    assert case["state"] == "verified"
