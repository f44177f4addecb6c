"""Acknowledge or complete a task from the emailed link: signed, expiring, single-use, POST only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import CaseEvent, Task
from caseflow.notifications.action_links import make_token


@pytest.fixture
def app_config(inprocess_mail):
    return inprocess_mail


HEALTH = "health.a@agency.test"


def _links(smtp_server, recipient: str = HEALTH) -> dict[str, str]:
    """The links of the one mail `recipient` got (a report of serious harm: health's emergency task)."""
    [message] = [m for rcpts, m in smtp_server.messages if recipient in rcpts]
    text = smtp_server.text(message)
    urls = re.findall(r"http://\S+/actions/\S+", text)
    return dict(zip(("acknowledge", "complete"), (urlparse(u).path for u in urls), strict=False))


def _health_task(case: dict) -> Task:
    return db.session.scalar(
        select(Task).where(Task.case_id == case["id"], Task.template == "emergency_health")
    )


def _events(case_id: int, kind: str) -> list[CaseEvent]:
    db.session.rollback()
    return list(
        db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == kind))
    )


def test_acknowledge_link_shows_a_form_and_acts_only_on_post_once(app, client, open_case, world, smtp_server):
    case = open_case("A", serious_harm=True)
    links = _links(smtp_server)

    page = client.get(links["acknowledge"])
    assert page.status_code == 200 and b'method="post"' in page.data
    assert case["reference"].encode() in page.data
    assert _events(case["id"], "email_action") == []  # a mail scanner following the link changes nothing

    assert client.post(links["acknowledge"]).status_code == 200
    [event] = _events(case["id"], "email_action")
    assert event.data["action"] == "acknowledge" and event.actor_id is None
    assert "A-health" in event.actor_label
    again = client.post(links["acknowledge"])
    assert again.status_code == 410 and "đã được sử dụng".encode() in again.data
    assert client.get(links["acknowledge"]).status_code == 410
    assert len(_events(case["id"], "email_action")) == 1


def test_complete_link_needs_an_outcome_and_completes_the_task(app, client, open_case, world, smtp_server):
    case = open_case("A", serious_harm=True)
    links = _links(smtp_server)
    assert client.post(links["complete"], data={"outcome": " "}).status_code == 400
    assert client.post(links["complete"], data={"outcome": "Visited the family"}).status_code == 200
    db.session.rollback()
    task = _health_task(case)
    assert task.status == "done" and task.outcome == "Visited the family" and task.completed_by_id is None
    assert len(_events(case["id"], "email_action")) == 1
    assert len(_events(case["id"], "task_completed")) == 1
    # The task is no longer open: the other link of the same mail refuses, and stays unused.
    assert client.post(links["acknowledge"]).status_code == 409


def test_forged_or_expired_links_are_refused(app, client, open_case, world, smtp_server):
    case = open_case("A", serious_harm=True)
    task = _health_task(case)
    token = make_token(task.id, "complete", task.agency_id)
    assert client.get(f"/actions/{token[:-3]}abc").status_code == 404
    assert client.post(f"/actions/{token[:-3]}abc", data={"outcome": "x"}).status_code == 404
    app.config["EMAIL_ACTION_HOURS"] = -1
    assert client.post(f"/actions/{token}", data={"outcome": "x"}).status_code == 410
    db.session.rollback()
    assert db.session.get(Task, task.id).status == "open"


def test_links_are_signed_with_the_secret_key(app, client, open_case, world, smtp_server):
    case = open_case("A", serious_harm=True)
    task = _health_task(case)
    app.config["SECRET_KEY"] = "another-secret"
    token = make_token(task.id, "acknowledge", task.agency_id)
    app.config["SECRET_KEY"] = "test-secret"
    assert client.get(f"/actions/{token}").status_code == 404


VERIFY_MILD = {"risk_level": "low", "serious_harm": False, "caregiver_is_abuser": False, "findings": "Seen"}


def test_a_step_tasks_mail_offers_no_done_link_and_a_made_one_is_refused(
    app, client, open_case, world, smtp_server
):
    case = open_case("A")
    links = _links(smtp_server, "commune_committee.a@agency.test")
    assert set(links) == {"acknowledge"}  # verify is finished by verifying, on the case page
    task = db.session.scalar(select(Task).where(Task.case_id == case["id"]))
    token = make_token(task.id, "complete", task.agency_id)  # as if the mail had carried one
    page = client.get(f"/actions/{token}")
    assert page.status_code == 409 and "bước xử lý trên hồ sơ".encode() in page.data
    assert client.post(f"/actions/{token}", data={"outcome": "Verified"}).status_code == 409
    db.session.rollback()
    assert db.session.get(Task, task.id).status == "open"
    assert _events(case["id"], "email_action") == [] and _events(case["id"], "task_completed") == []


def test_a_link_dies_when_its_task_is_rerouted_and_the_new_agency_gets_its_own(
    app, client, open_case, fire, world, smtp_server
):
    due = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    case = fire(open_case("A"), "verify", "officer_a@test.vn", VERIFY_MILD)
    plan = {"plan": "Plan", "measures": [{"agency": "A-health", "description": "Visit", "due_at": due}]}
    case = fire(fire(case, "submit_plan", "officer_a@test.vn", plan), "approve_plan", "chair_a@test.vn")
    old = _links(smtp_server, HEALTH)
    case = fire(case, "handover", "officer_a@test.vn", {"residence_commune": "B"})
    fire(case, "accept_handover", "officer_b@test.vn")
    for path in old.values():
        page = client.post(path, data={"outcome": "Visited"})
        assert page.status_code == 410 and "cơ quan khác".encode() in page.data
    [measure] = db.session.scalars(
        select(Task).where(Task.case_id == case["id"], Task.kind == "measure")
    ).all()
    assert measure.status == "open" and measure.agency.code == "B-health"
    assert _events(case["id"], "email_action") == []  # nothing blamed on either agency
    new = _links(smtp_server, "health.b@agency.test")
    assert client.post(new["complete"], data={"outcome": "Visited"}).status_code == 200
    [event] = _events(case["id"], "email_action")
    assert "B-health" in event.actor_label
