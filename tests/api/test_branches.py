"""The branches of Decree 56 Arts. 25-32 beside the main path, walked through the API: temporary
separation and its cap, revised measures, step tasks, emergency from intake, criminal referral,
handover acceptance, the hotline's view and the same child reported again."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import Case, Notification, Task
from caseflow.notifications.render import render_notification
from caseflow.workflow.clock import LOCAL_TZ

CHILD = "Bé Thử Nghiệm"
VERIFY_MILD = {"risk_level": "low", "serious_harm": False, "caregiver_is_abuser": False, "findings": "Seen"}
VERIFY_ABUSER = {**VERIFY_MILD, "risk_level": "high", "caregiver_is_abuser": True}


def _today() -> date:
    return datetime.now(LOCAL_TZ).date()


def _decision(days: int, **extra) -> dict:
    return {
        "ground": "caregiver_abuser",
        "decision_number": "07/QĐ-UBND",
        "shelter": "Nhà tạm lánh xã A",
        "alternative_carer": "Bà ngoại",
        "until": (_today() + timedelta(days=days)).isoformat(),
        **extra,
    }


def _plan(*agencies: str) -> dict:
    due = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    return {
        "plan": "Support plan",
        "measures": [{"agency": a, "description": f"Measure by {a}", "due_at": due} for a in agencies],
    }


def _open(case: dict, kind: str | None = None) -> list[dict]:
    return [t for t in case["tasks"] if t["status"] == "open" and (kind is None or t["kind"] == kind)]


def _transition(api, case: dict, trigger: str, who: str, data: dict | None = None):
    return api.post(
        f"/api/v1/cases/{case['id']}/transitions",
        who,
        json={"trigger": trigger, "version": case["version"], "data": data or {}},
    )


def _end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=LOCAL_TZ)


@pytest.fixture
def separated(open_case, fire):
    """A case whose caregiver is the abuser, separated by the chair for 10 days."""
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_ABUSER)
    return fire(case, "separate", "chair_a@test.vn", _decision(10))


# -- temporary separation (Art. 32) -------------------------------------------------------------


def test_separation_is_the_chairs_decision_with_a_deadline_task_at_its_end(api, separated):
    case = separated
    until = _today() + timedelta(days=10)
    assert case["state"] == "verified"  # the procedure goes on beside it
    assert case["separation"] == {
        "active": True,
        "ground": "caregiver_abuser",
        "since": case["separation"]["since"],
        "until": until.isoformat(),
        "decision_number": "07/QĐ-UBND",
    }
    [decided] = [t for t in case["tasks"] if t["kind"] == "separation_decision"]
    assert decided["status"] == "done"  # the decision prompt is finished by the decision
    [expiry] = _open(case, "separation_expiry")
    assert expiry["agency"] == "A-commune_committee"  # the residence commune's committee
    assert datetime.fromisoformat(expiry["due_at"]) == _end_of(until)
    listed = api.get("/api/v1/cases", "officer_a@test.vn").get_json()["items"]
    assert listed[0]["separation"]["until"] == until.isoformat()
    assert "shelter" not in listed[0]["separation"]  # lists never say where the child is
    assert {"extend_separation", "end_separation"} <= set(case["allowed_triggers"])
    assert "separate" not in case["allowed_triggers"]
    events = api.get(f"/api/v1/cases/{case['id']}/events", "supervisor_p@test.vn").get_json()["items"]
    [decision] = [e for e in events if e["kind"] == "transition" and e["data"]["trigger"] == "separate"]
    assert decision["data"]["decision_number"] == "07/QĐ-UBND"
    assert "Nhà tạm lánh" not in str(events) and "Bà ngoại" not in str(events)  # where the child is


def test_separation_beyond_fifteen_days_is_refused_unless_an_authority_ordered_it(api, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_ABUSER)
    resp = _transition(api, case, "separate", "chair_a@test.vn", _decision(16))
    assert resp.status_code == 422
    assert "15 calendar days" in resp.get_json()["error"]["fields"]["data.until"]
    fresh = api.get(f"/api/v1/cases/{case['id']}", "chair_a@test.vn").get_json()
    assert fresh["version"] == case["version"] and fresh["separation"] is None
    assert not _open(fresh, "separation_expiry")
    ordered = fire(case, "separate", "chair_a@test.vn", _decision(40, authority_order="QĐ 12/TAND"))
    assert ordered["separation"]["until"] == (_today() + timedelta(days=40)).isoformat()


def test_separation_needs_its_data_and_an_open_case_from_verified_on(api, open_case, fire):
    case = open_case()
    assert _transition(api, case, "separate", "chair_a@test.vn", _decision(5)).status_code == 409  # received
    case = fire(case, "verify", "officer_a@test.vn", VERIFY_ABUSER)
    resp = _transition(api, case, "separate", "chair_a@test.vn", {"ground": "nope", "until": "soon"})
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["fields"]
    assert {
        "data.ground",
        "data.until",
        "data.decision_number",
        "data.shelter",
        "data.alternative_carer",
    } <= set(fields)
    past = _transition(api, case, "separate", "chair_a@test.vn", _decision(-1))
    assert past.status_code == 422 and "data.until" in past.get_json()["error"]["fields"]
    assert _transition(api, case, "separate", "officer_a@test.vn", _decision(5)).status_code == 403


def test_extension_moves_the_deadline_within_the_cap_counted_from_the_first_decision(
    api, separated, fire, sql
):
    case = separated
    [expiry] = _open(case, "separation_expiry")
    sql(
        "UPDATE tasks SET warned_at = :now, escalation_level = 1 WHERE id = :id",
        now=datetime.now(UTC),
        id=expiry["id"],
    )
    db.session.commit()
    by_officer = _transition(
        api, case, "extend_separation", "officer_a@test.vn", {"until": "2099-01-01", "reason": "x"}
    )
    assert by_officer.status_code == 403
    too_far = (_today() + timedelta(days=16)).isoformat()
    beyond = _transition(
        api, case, "extend_separation", "chair_a@test.vn", {"until": too_far, "reason": "Still unsafe"}
    )
    assert beyond.status_code == 422 and "data.until" in beyond.get_json()["error"]["fields"]
    unchanged = api.get(f"/api/v1/cases/{case['id']}", "chair_a@test.vn").get_json()
    assert unchanged["version"] == case["version"]
    assert unchanged["separation"]["until"] == case["separation"]["until"]
    assert _open(unchanged, "separation_expiry")[0]["due_at"] == expiry["due_at"]

    last_day = _today() + timedelta(days=15)
    case = fire(
        case,
        "extend_separation",
        "chair_a@test.vn",
        {"until": last_day.isoformat(), "reason": "Still unsafe"},
    )
    assert case["separation"]["until"] == last_day.isoformat() and case["separation"]["active"]
    [moved] = _open(case, "separation_expiry")
    assert moved["id"] == expiry["id"] and datetime.fromisoformat(moved["due_at"]) == _end_of(last_day)
    task = db.session.get(Task, expiry["id"])
    db.session.refresh(task)
    assert task.warned_at is None and task.escalation_level == 0  # warned again before the new end
    earlier = _transition(
        api, case, "extend_separation", "chair_a@test.vn", {"until": last_day.isoformat(), "reason": "x"}
    )
    assert earlier.status_code == 422
    ordered = fire(
        case,
        "extend_separation",
        "chair_a@test.vn",
        {
            "until": (_today() + timedelta(days=45)).isoformat(),
            "reason": "Court order",
            "authority_order": "QĐ 3/TAND",
        },
    )
    events = api.get(f"/api/v1/cases/{case['id']}/events", "chair_a@test.vn").get_json()["items"]
    assert [e["kind"] for e in events].count("task_rescheduled") == 2
    assert ordered["separation"]["until"] == (_today() + timedelta(days=45)).isoformat()


def test_ending_the_separation_cancels_its_deadline_and_closes_the_sub_process(api, separated, fire):
    case = fire(
        separated, "end_separation", "chair_a@test.vn", {"reason": "The family can keep the child safe"}
    )
    assert case["separation"]["active"] is False
    assert [t["status"] for t in case["tasks"] if t["kind"] == "separation_expiry"] == ["cancelled"]
    assert {"extend_separation", "end_separation"}.isdisjoint(case["allowed_triggers"])
    assert (
        _transition(
            api, case, "extend_separation", "chair_a@test.vn", {"until": "2099-01-01", "reason": "x"}
        ).status_code
        == 409
    )
    assert _transition(api, case, "end_separation", "officer_a@test.vn", {"reason": "x"}).status_code == 403


def test_a_separated_case_cannot_be_closed(api, separated):
    db.session.execute(
        Case.__table__.update().where(Case.__table__.c.id == separated["id"]).values(state="follow_up")
    )
    db.session.commit()
    case = api.get(f"/api/v1/cases/{separated['id']}", "chair_a@test.vn").get_json()
    resp = _transition(
        api, case, "close", "chair_a@test.vn", {"no_longer_at_risk": True, "stable": True, "summary": "ok"}
    )
    assert resp.status_code == 409 and "separat" in resp.get_json()["error"]["message"]


def test_decline_separation_finishes_the_decision_prompt(api, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_ABUSER)
    case = fire(case, "decline_separation", "chair_a@test.vn", {"reason": "The abuser left the home"})
    assert [t["status"] for t in case["tasks"] if t["kind"] == "separation_decision"] == ["done"]
    assert case["separation"] is None
    assert "decline_separation" not in case["allowed_triggers"]  # nothing left to decline
    again = _transition(api, case, "decline_separation", "chair_a@test.vn", {"reason": "x"})
    assert again.status_code == 409


# -- revised measures ---------------------------------------------------------------------------


def test_revise_measures_cancels_a_failed_one_and_the_chair_approves_the_new_ones(api, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    case = fire(case, "submit_plan", "officer_a@test.vn", _plan("A-health", "A-education"))
    case = fire(case, "approve_plan", "chair_a@test.vn")
    health, school = (
        next(t for t in _open(case, "measure") if t["agency"] == a) for a in ("A-health", "A-education")
    )
    verify = next(t for t in case["tasks"] if t["kind"] == "verify")
    new = _plan("A-police")["measures"]
    assert (
        _transition(
            api, case, "revise_measures", "chair_a@test.vn", {"cancel": [health["id"]], "reason": "x"}
        ).status_code
        == 403
    )
    bad = _transition(api, case, "revise_measures", "officer_a@test.vn", {"cancel": [verify["id"], 999999]})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"data.cancel[0]", "data.cancel[1]", "data.reason"}
    assert _transition(api, case, "revise_measures", "officer_a@test.vn", {}).status_code == 422

    case = fire(
        case,
        "revise_measures",
        "officer_a@test.vn",
        {"cancel": [health["id"]], "reason": "The health station has no paediatrician", "measures": new},
    )
    assert case["state"] == "intervention"
    assert next(t for t in case["tasks"] if t["id"] == health["id"])["status"] == "cancelled"
    assert [t["agency"] for t in _open(case, "measure")] == ["A-education"]  # the new one waits
    assert [t["agency"] for t in _open(case, "approve_measures")] == ["A-commune_committee"]
    assert (
        api.post(
            f"/api/v1/tasks/{school['id']}/complete", "education_a@test.vn", json={"outcome": "ok"}
        ).status_code
        == 200
    )
    case = api.get(f"/api/v1/cases/{case['id']}", "officer_a@test.vn").get_json()
    waiting = _transition(api, case, "start_follow_up", "officer_a@test.vn")
    assert waiting.status_code == 409 and "approval" in waiting.get_json()["error"]["message"]
    assert _transition(api, case, "approve_measures", "officer_a@test.vn").status_code == 403

    case = fire(case, "approve_measures", "chair_a@test.vn")
    [police] = _open(case, "measure")
    assert police["agency"] == "A-police" and police["description"] == "Measure by A-police"
    assert not _open(case, "approve_measures")
    assert "approve_measures" not in case["allowed_triggers"]
    assert (
        api.post(
            f"/api/v1/tasks/{police['id']}/complete", "police_a@test.vn", json={"outcome": "ok"}
        ).status_code
        == 200
    )
    case = api.get(f"/api/v1/cases/{case['id']}", "officer_a@test.vn").get_json()
    assert fire(case, "start_follow_up", "officer_a@test.vn")["state"] == "follow_up"


def test_rejected_measures_open_no_task(api, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    case = fire(
        fire(case, "submit_plan", "officer_a@test.vn", _plan("A-health")), "approve_plan", "chair_a@test.vn"
    )
    case = fire(case, "revise_measures", "officer_a@test.vn", {"measures": _plan("A-police")["measures"]})
    case = fire(case, "reject_measures", "chair_a@test.vn", {"reason": "Not needed"})
    assert [t["agency"] for t in _open(case, "measure")] == ["A-health"]
    assert not _open(case, "approve_measures") and "pending_measures" not in case["plan"]


# -- step tasks ---------------------------------------------------------------------------------


def test_step_tasks_cannot_be_marked_done_and_chair_decisions_only_by_the_chair(api, open_case, fire):
    case = open_case()
    [verify] = case["tasks"]
    resp = api.post(f"/api/v1/tasks/{verify['id']}/complete", "officer_a@test.vn", json={"outcome": "done"})
    assert resp.status_code == 409 and "verify" in resp.get_json()["error"]["message"]
    case = fire(case, "verify", "officer_a@test.vn", VERIFY_ABUSER)
    draft = _open(case, "draft_plan")[0]
    separation = _open(case, "separation_decision")[0]
    resp = api.post(f"/api/v1/tasks/{draft['id']}/complete", "officer_a@test.vn", json={"outcome": "done"})
    assert resp.status_code == 409 and "submit_plan" in resp.get_json()["error"]["message"]
    by_officer = api.post(
        f"/api/v1/tasks/{separation['id']}/complete", "officer_a@test.vn", json={"outcome": "x"}
    )
    assert by_officer.status_code == 403 and "chair" in by_officer.get_json()["error"]["message"]
    by_chair = api.post(
        f"/api/v1/tasks/{separation['id']}/complete", "chair_a@test.vn", json={"outcome": "x"}
    )
    assert by_chair.status_code == 409 and "separate" in by_chair.get_json()["error"]["message"]
    still = api.get(f"/api/v1/cases/{case['id']}", "chair_a@test.vn").get_json()
    assert {t["kind"] for t in _open(still)} >= {"draft_plan", "separation_decision"}
    workflow = api.get("/api/v1/workflow", "officer_a@test.vn").get_json()
    steps = {t["kind"] for t in workflow["tasks"] if t["completed_by"] == "trigger"}
    assert {"verify", "draft_plan", "approve_plan", "review", "separation_decision"} <= steps


# -- emergency from intake, criminal referral --------------------------------------------------


def test_a_report_of_serious_harm_opens_the_emergency_tasks_at_intake(api, open_case, fire):
    received = datetime.now(UTC) - timedelta(hours=2)
    case = open_case(received_at=received.isoformat(), serious_harm=True)
    tasks = {(t["kind"], t["agency"]): t for t in case["tasks"]}
    assert set(tasks) == {
        ("verify", "A-commune_committee"),
        ("emergency_protection", "A-police"),
        ("emergency_protection", "A-health"),
        ("evidence_preservation", "A-police"),
    }
    for task in tasks.values():
        assert datetime.fromisoformat(task["due_at"]) == received + timedelta(hours=12)
    assert case["serious_harm"] is True
    case = fire(case, "verify", "officer_a@test.vn", {**VERIFY_MILD, "serious_harm": True})
    kinds = sorted(t["kind"] for t in case["tasks"])
    assert kinds == [
        "draft_plan",
        "emergency_protection",
        "emergency_protection",
        "evidence_preservation",
        "verify",
    ]
    bad = api.post("/api/v1/cases", "officer_a@test.vn", json={**_payload(), "serious_harm": "yes"})
    assert bad.status_code == 422 and "serious_harm" in bad.get_json()["error"]["fields"]


def _payload(**overrides) -> dict:
    from tests.conftest import new_case_payload

    return new_case_payload("A", **overrides)


def test_criminal_referral_gives_police_a_task_and_keeps_the_proceedings(api, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    assert (
        _transition(api, case, "record_proceedings", "officer_a@test.vn", {"decision": "x"}).status_code
        == 409
    )
    case = fire(
        case,
        "refer_criminal",
        "chair_a@test.vn",
        {
            "criminal_referral": True,
            "investigating_body": "Cơ quan CSĐT Công an huyện",
            "police_case_number": "VKS-2026-17",
            "decision": "Tiếp nhận tố giác",
        },
    )
    [task] = _open(case, "criminal_investigation")
    assert task["agency"] == "A-police"
    mails = db.session.scalars(
        select(Notification).where(Notification.task_id == task["id"], Notification.kind == "task_created")
    ).all()
    assert [m.recipient for m in mails] == ["police.a@agency.test"]
    case = fire(case, "record_proceedings", "officer_a@test.vn", {"decision": "Khởi tố vụ án"})
    proceedings = case["proceedings"]
    assert proceedings["investigating_body"] == "Cơ quan CSĐT Công an huyện"
    assert proceedings["case_number"] == "VKS-2026-17" == case["police_case_number"]
    assert [d["text"] for d in proceedings["decisions"]] == ["Tiếp nhận tố giác", "Khởi tố vụ án"]
    assert len(_open(case, "criminal_investigation")) == 1  # once per referral, not per step
    assert "proceedings" not in api.get(f"/api/v1/cases/{case['id']}", "health_a@test.vn").get_json()


# -- handover -----------------------------------------------------------------------------------


def test_handover_waits_for_the_receiving_commune_and_moves_the_measures_on_acceptance(api, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    case = fire(
        fire(case, "submit_plan", "officer_a@test.vn", _plan("A-health")), "approve_plan", "chair_a@test.vn"
    )
    case = fire(case, "handover", "officer_a@test.vn", {"residence_commune": "B"})
    assert case["residence_commune"] == "A" and case["pending_handover"] == "B"
    assert "handover" not in case["allowed_triggers"]
    asked = db.session.scalars(
        select(Notification.recipient).where(Notification.kind == "handover_requested")
    ).all()
    assert sorted(asked) == ["chair_b@test.vn", "officer_b@test.vn"]
    seen = api.get(f"/api/v1/cases/{case['id']}", "officer_b@test.vn").get_json()
    assert "child" not in seen and seen["allowed_triggers"] == ["accept_handover", "decline_handover"]
    assert api.get("/api/v1/cases", "officer_b@test.vn").get_json()["total"] == 0  # not B's work yet
    assert api.get(f"/api/v1/cases/{case['id']}/events", "officer_b@test.vn").status_code == 404
    note = api.post(f"/api/v1/cases/{case['id']}/notes", "officer_b@test.vn", json={"text": "x"})
    assert note.status_code == 404
    assert api.get(f"/api/v1/cases/{case['id']}", "officer_c@test.vn").status_code == 404
    assert _transition(api, case, "accept_handover", "officer_a@test.vn").status_code == 403

    case = fire(seen, "accept_handover", "chair_b@test.vn")
    assert case["residence_commune"] == "B" and case["pending_handover"] is None
    [measure] = _open(case, "measure")
    assert measure["agency"] == "B-health"  # the old commune's health station no longer holds it
    assert "child" in api.get(f"/api/v1/cases/{case['id']}", "officer_b@test.vn").get_json()
    events = api.get(f"/api/v1/cases/{case['id']}/events", "officer_b@test.vn").get_json()["items"]
    assert [(e["data"]["from"], e["data"]["to"]) for e in events if e["kind"] == "task_rerouted"] == [
        ("A-health", "B-health")
    ]


def test_a_declined_handover_leaves_the_case_where_it_was(api, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    case = fire(case, "handover", "chair_a@test.vn", {"residence_commune": "C"})
    assert _transition(api, case, "decline_handover", "officer_c@test.vn", {}).status_code == 422
    case = fire(case, "decline_handover", "officer_c@test.vn", {"reason": "The child does not live here"})
    assert (case["residence_commune"], case["pending_handover"]) == ("A", None)
    assert api.get(f"/api/v1/cases/{case['id']}", "officer_c@test.vn").status_code == 404
    told = db.session.scalars(
        select(Notification.recipient).where(Notification.kind == "handover_declined")
    ).all()
    assert sorted(told) == ["chair_a@test.vn", "officer_a@test.vn"]
    same = _transition(api, case, "handover", "officer_a@test.vn", {"residence_commune": "A"})
    assert same.status_code == 422 and "data.residence_commune" in same.get_json()["error"]["fields"]


# -- hotline 111 --------------------------------------------------------------------------------


def test_the_hotline_follows_the_cases_it_reported_without_the_child(api, open_case, fire):
    reported = open_case("A", as_="hotline@test.vn")
    other = open_case("A")
    listed = api.get("/api/v1/cases", "hotline@test.vn").get_json()
    assert [c["id"] for c in listed["items"]] == [reported["id"]]
    detail = api.get(f"/api/v1/cases/{reported['id']}", "hotline@test.vn")
    assert (
        detail.status_code == 200
        and "child" not in detail.get_json()
        and "informant" not in detail.get_json()
    )
    assert api.get(f"/api/v1/cases/{other['id']}", "hotline@test.vn").status_code == 404
    case = fire(reported, "verify", "officer_a@test.vn", VERIFY_MILD)
    fire(case, "handover", "officer_a@test.vn", {"residence_commune": "B"})  # not a change of step
    fire(other, "verify", "officer_a@test.vn", VERIFY_MILD)
    mails = db.session.scalars(select(Notification).where(Notification.kind == "case_status")).all()
    assert [(m.recipient, m.case_id) for m in mails] == [("111@agency.test", reported["id"])]
    mail = render_notification(db.session, mails[0])
    assert mail.subject == f"[{reported['reference']}] Tình trạng hồ sơ: Đã xác minh, đánh giá"
    assert CHILD not in mail.text + mail.html
    assert api.get(f"/api/v1/cases/{reported['id']}", "hotline@test.vn").get_json()["state"] == "verified"


# -- the same child again -----------------------------------------------------------------------


def _child(name: str, born: str = "2015-01-02") -> dict:
    return {"full_name": name, "date_of_birth": born, "sex": "male", "address": "Thôn 2"}


def test_a_new_report_on_the_same_child_names_the_earlier_one_to_those_who_may_see_it(api, open_case, fire):
    first = open_case("A", child=_child("Nguyễn Văn An"))
    open_case("A", child=_child("Nguyễn Văn An", "2015-01-03"))  # another child: another birthday
    open_case("B", child=_child("Nguyen Van An"))  # another commune altogether
    again = open_case("A", residence_commune="B", child=_child("nguyen  van   an"))
    assert again["possible_earlier_reports"] == [first["reference"]]
    assert first["reference"] not in str(
        api.get(f"/api/v1/cases/{again['id']}", "supervisor_p@test.vn").get_json()
    )
    # B sees the new case (the child lives there) and B's own earlier case, never A's.
    b_view = api.get(f"/api/v1/cases/{again['id']}", "officer_b@test.vn").get_json()
    assert (
        first["reference"] not in b_view["possible_earlier_reports"]
        and len(b_view["possible_earlier_reports"]) == 1
    )
    listed = api.get("/api/v1/cases", "officer_a@test.vn").get_json()["items"]
    assert all("possible_earlier_reports" not in c for c in listed)

    closed = fire(first, "dismiss", "officer_a@test.vn", {"reason": "Unfounded"})
    reopened = fire(closed, "reopen", "officer_a@test.vn", {"reason": "New report"})
    assert again["reference"] in reopened["possible_earlier_reports"]


def test_the_separations_end_is_warned_and_escalated_like_any_deadline(api, separated, fire):
    from caseflow.notifications.escalation import run_scan

    [expiry] = _open(separated, "separation_expiry")
    due = datetime.fromisoformat(expiry["due_at"])
    # The end is a moment the chair's decision fixed: on the hours ladder, warned hours before
    # whatever the office hours, and escalated at once when it passes.
    run_scan(due - timedelta(hours=2))
    run_scan(due + timedelta(minutes=5))
    db.session.expire_all()
    kinds = db.session.scalars(
        select(Notification.kind).where(Notification.task_id == expiry["id"]).order_by(Notification.id)
    ).all()
    assert kinds[0] == "task_created" and "warning" in kinds and "overdue" in kinds
    warned = db.session.scalars(
        select(Notification.recipient).where(
            Notification.task_id == expiry["id"], Notification.kind == "warning"
        )
    ).all()
    assert sorted(warned) == ["chair_a@test.vn", "commune_committee.a@agency.test"]
