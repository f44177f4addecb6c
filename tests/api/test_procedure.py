"""The whole Decree 56 procedure walked through the API, with its branches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from caseflow.extensions import db
from caseflow.models import Task

VERIFY_SERIOUS = {
    "risk_level": "high",
    "serious_harm": True,
    "caregiver_is_abuser": False,
    "findings": "Bruises confirmed by the health station.",
}
VERIFY_MILD = {
    "risk_level": "low",
    "serious_harm": False,
    "caregiver_is_abuser": False,
    "findings": "Family needs support.",
}


def _plan(*agencies: str) -> dict:
    due = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    return {
        "plan": "Support plan",
        "measures": [
            {"agency": code, "description": f"Measure by {code}", "due_at": due} for code in agencies
        ],
    }


def _open_tasks(case: dict, kind: str | None = None) -> list[dict]:
    return [t for t in case["tasks"] if t["status"] == "open" and (kind is None or t["kind"] == kind)]


def test_intake_creates_verify_task_due_twelve_hours_after_receipt(api, open_case):
    received = datetime.now(UTC) - timedelta(hours=2)
    case = open_case(received_at=received.isoformat())
    assert case["state"] == "received"
    assert case["reference"].startswith(f"TT-{received.year}-")
    [task] = case["tasks"]
    assert task["kind"] == "verify" and task["agency"] == "A-commune_committee"
    assert datetime.fromisoformat(task["due_at"]) == received.replace(
        microsecond=received.microsecond
    ) + timedelta(hours=12)


def test_verify_with_serious_harm_creates_emergency_tasks_for_police_and_health(open_case, fire):
    received = datetime.now(UTC) - timedelta(hours=3)
    case = open_case(received_at=received.isoformat())
    case = fire(case, "verify", "officer_a@test.vn", VERIFY_SERIOUS)
    assert case["state"] == "verified" and case["risk_level"] == "high"
    emergency = _open_tasks(case, "emergency_protection")
    assert sorted(t["agency"] for t in emergency) == ["A-health", "A-police"]
    for task in emergency:
        assert datetime.fromisoformat(task["due_at"]) == received + timedelta(hours=12)
    assert [t["status"] for t in case["tasks"] if t["kind"] == "verify"] == ["done"]
    assert len(_open_tasks(case, "draft_plan")) == 1


def test_verify_without_serious_harm_creates_no_emergency_task(open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    assert not _open_tasks(case, "emergency_protection")


def test_caregiver_abuser_also_creates_separation_decision(open_case, fire):
    case = fire(open_case(), "verify", "chair_a@test.vn", {**VERIFY_MILD, "caregiver_is_abuser": True})
    kinds = sorted(t["kind"] for t in _open_tasks(case))
    assert kinds == [
        "draft_plan",
        "emergency_protection",
        "emergency_protection",
        "evidence_preservation",
        "separation_decision",
    ]


def test_full_procedure_to_closure(api, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    case = fire(case, "submit_plan", "officer_a@test.vn", _plan("A-health", "A-education"))
    assert case["state"] == "planned" and len(_open_tasks(case, "approve_plan")) == 1
    case = fire(case, "approve_plan", "chair_a@test.vn")
    assert case["state"] == "intervention"
    measures = _open_tasks(case, "measure")
    assert sorted(t["agency"] for t in measures) == ["A-education", "A-health"]
    fire(case, "start_follow_up", "officer_a@test.vn", expect=409)
    for task, staff in zip(
        sorted(measures, key=lambda t: t["agency"]), ["education_a", "health_a"], strict=True
    ):
        resp = api.post(f"/api/v1/tasks/{task['id']}/complete", f"{staff}@test.vn", json={"outcome": "done"})
        assert resp.status_code == 200, resp.get_json()
    case = api.get(f"/api/v1/cases/{case['id']}", "officer_a@test.vn").get_json()
    case = fire(case, "start_follow_up", "officer_a@test.vn")
    assert case["state"] == "follow_up"
    fire(
        case,
        "close",
        "chair_a@test.vn",
        {"no_longer_at_risk": True, "stable": False, "summary": "x"},
        expect=422,
    )
    case = fire(
        case, "close", "chair_a@test.vn", {"no_longer_at_risk": True, "stable": True, "summary": "Safe"}
    )
    assert case["state"] == "closed" and case["closed_at"] and case["closure_reason"] == "Safe"
    assert not _open_tasks(case)


def test_dismiss_closes_unfounded_report_with_reason(open_case, fire):
    case = fire(open_case(), "dismiss", "officer_a@test.vn", {"reason": "Unfounded"})
    assert case["state"] == "closed" and case["closure_reason"] == "Unfounded"
    assert not _open_tasks(case)


def test_reject_plan_returns_to_verified_with_new_draft_task(open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    case = fire(case, "submit_plan", "officer_a@test.vn", _plan("A-health"))
    case = fire(case, "reject_plan", "chair_a@test.vn", {"reason": "Needs a school measure"})
    assert case["state"] == "verified"
    assert len(_open_tasks(case, "draft_plan")) == 1


def test_revise_plan_from_follow_up(api, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    case = fire(case, "submit_plan", "officer_a@test.vn", _plan("A-health"))
    case = fire(case, "approve_plan", "chair_a@test.vn")
    [measure] = _open_tasks(case, "measure")
    api.post(f"/api/v1/tasks/{measure['id']}/complete", "health_a@test.vn", json={"outcome": "ok"})
    case = api.get(f"/api/v1/cases/{case['id']}", "officer_a@test.vn").get_json()
    case = fire(case, "start_follow_up", "officer_a@test.vn")
    case = fire(case, "revise_plan", "officer_a@test.vn", {"reason": "Relapse"})
    assert case["state"] == "verified"


def test_reopen_restarts_the_twelve_hour_clock(open_case, fire):
    case = open_case(received_at=(datetime.now(UTC) - timedelta(days=3)).isoformat())
    case = fire(case, "dismiss", "officer_a@test.vn", {"reason": "Unfounded"})
    before = datetime.now(UTC)
    case = fire(case, "reopen", "chair_a@test.vn", {"reason": "New evidence"})
    assert case["state"] == "received"
    [verify] = _open_tasks(case, "verify")
    assert datetime.fromisoformat(verify["due_at"]) >= before + timedelta(hours=12) - timedelta(seconds=5)


def test_handover_moves_plan_ownership_and_open_tasks(api, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    case = fire(case, "handover", "officer_a@test.vn", {"residence_commune": "B"})
    case = fire(case, "accept_handover", "officer_b@test.vn")
    assert case["state"] == "verified" and case["residence_commune"] == "B"
    assert [t["agency"] for t in _open_tasks(case, "draft_plan")] == ["B-commune_committee"]
    # The plan is now B's to draw up; A's officer can no longer submit it.
    resp = api.post(
        f"/api/v1/cases/{case['id']}/transitions",
        "officer_a@test.vn",
        json={"trigger": "submit_plan", "version": case["version"], "data": _plan("B-health")},
    )
    assert resp.status_code in (403, 404)
    case_b = api.get(f"/api/v1/cases/{case['id']}", "officer_b@test.vn").get_json()
    fire(case_b, "submit_plan", "officer_b@test.vn", _plan("B-health"))


def test_events_record_transitions_tasks_notes_and_reads(api, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    api.post(f"/api/v1/cases/{case['id']}/notes", "officer_a@test.vn", json={"text": "Visited school"})
    api.get(f"/api/v1/cases/{case['id']}", "chair_a@test.vn")
    events = api.get(f"/api/v1/cases/{case['id']}/events", "officer_a@test.vn").get_json()["items"]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "created"
    assert {"transition", "task_created", "task_completed", "note", "read"} <= set(kinds)
    reads = [e for e in events if e["kind"] == "read"]
    assert any(e["actor"] == "chair_a@test.vn" for e in reads)
    transition = next(e for e in events if e["kind"] == "transition")
    assert (transition["from_state"], transition["to_state"]) == ("received", "verified")


def test_stale_version_is_409_and_changes_nothing(api, open_case, fire):
    case = open_case()
    fire(case, "verify", "officer_a@test.vn", VERIFY_MILD)
    resp = api.post(
        f"/api/v1/cases/{case['id']}/transitions",
        "officer_a@test.vn",
        json={"trigger": "dismiss", "version": case["version"], "data": {"reason": "x"}},
    )
    assert resp.status_code == 409
    assert api.get(f"/api/v1/cases/{case['id']}", "officer_a@test.vn").get_json()["state"] == "verified"


def test_trigger_not_allowed_in_state_is_409(open_case, fire):
    fire(open_case(), "approve_plan", "chair_a@test.vn", expect=409)


def test_completing_a_done_task_is_409(api, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_SERIOUS)
    police = next(t for t in _open_tasks(case, "emergency_protection") if t["agency"] == "A-police")
    url = f"/api/v1/tasks/{police['id']}/complete"
    assert api.post(url, "police_a@test.vn", json={"outcome": "Stopped"}).status_code == 200
    assert api.post(url, "police_a@test.vn", json={"outcome": "Again"}).status_code == 409
    assert db.session.get(Task, police["id"]).outcome == "Stopped"


def test_criminal_referral_is_a_parallel_flag_that_keeps_the_state(open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_SERIOUS)
    case = fire(
        case,
        "refer_criminal",
        "chair_a@test.vn",
        {"criminal_referral": True, "police_case_number": "CA-2026-17"},
    )
    assert case["state"] == "verified"
    assert case["criminal_referral"] is True and case["police_case_number"] == "CA-2026-17"
