"""The 2025 mergers: POST /org-units/{code}/merge and `flask caseflow merge-unit` move a commune's
open work to its successor; routing, access and escalation follow; the old unit keeps its history."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import Agency, CaseEvent, OrgUnit, Task, User
from caseflow.models.types import utcnow
from caseflow.notifications.escalation import run_scan
from caseflow.workflow.clock import LOCAL_TZ
from tests.api.test_dashboard_counts import _check
from tests.conftest import new_case_payload

VERIFY = {"risk_level": "medium", "serious_harm": False, "caregiver_is_abuser": False, "findings": "seen"}


def _today():
    return utcnow().astimezone(LOCAL_TZ).date()


def _merge(api, code: str, into: str, on: str | None = None, expect: int = 200) -> dict:
    resp = api.post(
        f"/api/v1/org-units/{code}/merge",
        "admin@test.vn",
        json={"into": into, "on": on or _today().isoformat()},
    )
    assert resp.status_code == expect, resp.get_json()
    return resp.get_json()


def test_a_merger_moves_open_cases_tasks_agencies_and_users_to_the_successor(api, open_case, fire, world):
    moved = open_case("A")
    closed = fire(open_case("A"), "dismiss", "officer_a@test.vn", {"reason": "unfounded"})
    elsewhere = open_case("B")

    body = _merge(api, "A", "B")
    assert body["moved"] == {"cases": 1, "tasks": 1, "agencies": 9, "users": 5}
    assert body["unit"]["valid_to"] == (_today() - timedelta(days=1)).isoformat()
    assert body["unit"]["successor"] == "B"

    # The moved case is the successor's now, with the move in its trail.
    detail = api.get(f"/api/v1/cases/{moved['id']}", "officer_b@test.vn").get_json()
    assert (detail["incident_commune"], detail["residence_commune"]) == ("B", "B")
    [event] = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == moved["id"], CaseEvent.kind == "unit_merged")
    ).all()
    assert event.data == {
        "from": "A",
        "into": "B",
        "on": _today().isoformat(),
        "moved": ["incident_commune", "residence_commune"],
    }
    assert event.actor_id == world.users["admin"].id
    assert not db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == elsewhere["id"], CaseEvent.kind == "unit_merged")
    ).all()

    # The closed case keeps its history in A, and the successor's officer can still reach it.
    old = api.get(f"/api/v1/cases/{closed['id']}", "officer_b@test.vn").get_json()
    assert old["incident_commune"] == "A" and old["state"] == "closed"
    assert "child" in old  # the bodies handling it now see it whole

    # Agencies and staff moved; the old unit stays, closed, in the list.
    assert db.session.scalar(select(Agency).where(Agency.code == "A-police")).org_unit.code == "B"
    assert db.session.scalar(select(User).where(User.email == "officer_a@test.vn")).org_unit.code == "B"
    units = {u["code"]: u for u in api.get("/api/v1/org-units", "admin@test.vn").get_json()["items"]}
    assert units["A"]["successor"] == "B"
    _check(api)  # open-case counters and the tasks' communes agree with the cases


def test_the_successors_officer_acts_on_moved_and_old_cases_and_routing_prefers_its_own_agencies(
    api, open_case, fire, world
):
    moved = open_case("A")
    closed = fire(open_case("A"), "dismiss", "officer_a@test.vn", {"reason": "unfounded"})
    _merge(api, "A", "B")
    moved = api.get(
        f"/api/v1/cases/{moved['id']}", "officer_b@test.vn"
    ).get_json()  # the move is a new version
    closed = api.get(f"/api/v1/cases/{closed['id']}", "officer_b@test.vn").get_json()

    verified = fire(moved, "verify", "officer_b@test.vn", VERIFY)
    [draft] = [t for t in verified["tasks"] if t["kind"] == "draft_plan"]
    assert draft["agency"] == "B-commune_committee"  # B's own committee, not the one A brought

    reopened = fire(closed, "reopen", "chair_b@test.vn", {"reason": "a new report"})
    [verify] = [t for t in reopened["tasks"] if t["status"] == "open"]
    assert verify["agency"] == "B-commune_committee"  # the closed commune routes to its successor
    assert "verify" in reopened["allowed_triggers"]

    # Escalation follows the successor too: the breach of the reopened case reaches B's chair.
    task = db.session.get(Task, verify["id"])
    run_scan(task.due_at + timedelta(minutes=1))
    event = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == closed["id"], CaseEvent.kind == "escalation")
    ).first()
    assert "chair_b@test.vn" in event.data["recipients"] and event.data["unit"] == "B"


def test_the_closed_unit_refuses_new_cases_but_keeps_its_history(api, open_case, world):
    open_case("A")
    _merge(api, "A", "B")
    resp = api.post("/api/v1/cases", "officer_b@test.vn", json=new_case_payload("A"))
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"] == {"incident_commune": "names a commune that no longer exists"}
    assert db.session.scalar(select(OrgUnit).where(OrgUnit.code == "A")) is not None


def test_bad_mergers_are_refused_naming_why_and_change_nothing(api, open_case, world):
    case = open_case("A")
    tomorrow = (_today() + timedelta(days=1)).isoformat()
    assert (
        api.post(
            "/api/v1/org-units/NOPE/merge", "admin@test.vn", json={"into": "B", "on": "2025-07-01"}
        ).status_code
        == 404
    )
    for body, field in (
        ({"into": "B", "on": "2025-13-01"}, "on"),
        ({"into": "B", "on": "1 July"}, "on"),
        ({"into": "B"}, "on"),
        ({"into": "B", "on": tomorrow}, "on"),
        ({"on": "2025-07-01"}, "into"),
        ({"into": "NOPE", "on": "2025-07-01"}, "into"),
        ({"into": "A", "on": "2025-07-01"}, "into"),
        ({"into": "P", "on": "2025-07-01"}, "into"),  # a province cannot take over a commune
    ):
        resp = api.post("/api/v1/org-units/A/merge", "admin@test.vn", json=body)
        assert resp.status_code == 422, (body, resp.get_json())
        assert field in resp.get_json()["error"]["fields"], (body, resp.get_json())
    assert (
        api.post(
            "/api/v1/org-units/D/merge", "admin@test.vn", json={"into": "P", "on": "2025-07-01"}
        ).status_code
        == 422
    )

    _merge(api, "C", "B")
    resp = api.post("/api/v1/org-units/A/merge", "admin@test.vn", json={"into": "C", "on": "2025-07-01"})
    assert resp.status_code == 409 and resp.get_json()["error"]["fields"] == {"into": "is closed"}
    assert (
        api.post(
            "/api/v1/org-units/C/merge", "admin@test.vn", json={"into": "A", "on": "2025-07-01"}
        ).status_code
        == 409
    )
    assert (
        api.post(
            "/api/v1/org-units/A/merge", "officer_a@test.vn", json={"into": "B", "on": "2025-07-01"}
        ).status_code
        == 403
    )

    db.session.expire_all()
    a = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "A"))
    assert a.valid_to is None and a.successor_id is None
    assert api.get(f"/api/v1/cases/{case['id']}", "officer_a@test.vn").get_json()["incident_commune"] == "A"


def test_merge_unit_command(app, runner, open_case, world):
    open_case("A")
    result = runner.invoke(args=["caseflow", "merge-unit", "A", "--into", "B", "--on", "2025-07-01"])
    assert result.exit_code == 0, result.output
    assert "A merged into B from 2025-07-01: cases 1, tasks 1, agencies 9, users 5" in result.output
    result = runner.invoke(args=["caseflow", "merge-unit", "C", "--into", "A", "--on", "2025-07-01"])
    assert result.exit_code != 0 and "is closed" in result.output


def test_a_merger_widens_the_successors_reach_from_its_next_request_on(api, open_case, fire):
    # The token look-up tells a request whether any unit was merged into the caller's commune;
    # a request before the merger must not leave B's narrower reach behind for the next one.
    closed = fire(open_case("A"), "dismiss", "officer_a@test.vn", {"reason": "unfounded"})
    assert api.get(f"/api/v1/cases/{closed['id']}", "officer_b@test.vn").status_code == 404
    _merge(api, "A", "B")
    assert api.get(f"/api/v1/cases/{closed['id']}", "officer_b@test.vn").status_code == 200
