"""The procedure diagram tells the path: visited states, back-edges and the current state, from the trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import CaseEvent
from caseflow.services.pathway import pathway_of
from caseflow.workflow import current_engine

VERIFY = {"risk_level": "medium", "serious_harm": False, "caregiver_is_abuser": False, "findings": "seen"}


def _plan() -> dict:
    due = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    return {"plan": "p", "measures": [{"agency": "A-health", "description": "visit", "due_at": due}]}


def _pathway(case: dict):
    events = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case["id"]).order_by(CaseEvent.id)
    )
    return pathway_of(current_engine().definition, case["state"], list(events))


def _statuses(pathway) -> dict[str, str]:
    return {mark.name: mark.status for mark in pathway.states}


def test_a_dismissed_report_does_not_show_the_plan_states_as_done(app, open_case, fire):
    case = fire(open_case(), "dismiss", "officer_a@test.vn", {"reason": "unfounded"})
    pathway = _pathway(case)
    assert _statuses(pathway) == {
        "received": "done",
        "verified": "not_reached",
        "planned": "not_reached",
        "intervention": "not_reached",
        "follow_up": "not_reached",
        "closed": "current",
    }
    assert pathway.visited == ["received", "closed"] and pathway.back_edges == []
    assert [s.trigger for s in pathway.steps] == [None, "dismiss"]


def test_a_rejected_plan_is_a_back_edge_and_the_plan_step_is_to_be_done_again(app, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY)
    case = fire(case, "submit_plan", "officer_a@test.vn", _plan())
    case = fire(case, "reject_plan", "chair_a@test.vn", {"reason": "add the school"})
    pathway = _pathway(case)
    assert pathway.current == "verified"
    assert _statuses(pathway) == {
        "received": "done",
        "verified": "current",
        "planned": "redo",
        "intervention": "ahead",
        "follow_up": "ahead",
        "closed": "ahead",
    }
    [back] = pathway.back_edges
    assert (back.trigger, back.from_state, back.state, back.reason) == (
        "reject_plan",
        "planned",
        "verified",
        "add the school",
    )
    assert {t.trigger for t in pathway.next} >= {"submit_plan"}


def test_a_reopened_case_starts_again_with_every_earlier_state_to_be_done_again(app, open_case, fire):
    case = fire(open_case(), "dismiss", "officer_a@test.vn", {"reason": "unfounded"})
    case = fire(case, "reopen", "chair_a@test.vn", {"reason": "a second report"})
    pathway = _pathway(case)
    statuses = _statuses(pathway)
    assert statuses["received"] == "current" and statuses["closed"] == "redo"
    assert {statuses[s] for s in ("verified", "planned", "intervention", "follow_up")} == {"ahead"}
    assert [s.trigger for s in pathway.back_edges] == ["reopen"]
    assert pathway.steps[-1].state == "received" and pathway.visits_of("received") == 2


def test_with_no_trail_only_the_current_state_is_known(app):
    pathway = pathway_of(current_engine().definition, "planned", [])
    assert _statuses(pathway)["planned"] == "current"
    assert _statuses(pathway) == {
        "received": "unknown",
        "verified": "unknown",
        "planned": "current",
        "intervention": "ahead",
        "follow_up": "ahead",
        "closed": "ahead",
    }
