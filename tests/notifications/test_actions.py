"""Acknowledge or complete a task from the emailed link: signed, expiring, single-use, POST only."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import CaseEvent, Task
from caseflow.notifications.action_links import make_token


@pytest.fixture
def app_config(inprocess_mail):
    return inprocess_mail


def _links(smtp_server, recipient: str) -> dict[str, str]:
    [message] = [m for rcpts, m in smtp_server.messages if recipient in rcpts]
    text = smtp_server.text(message)
    urls = re.findall(r"http://\S+/actions/\S+", text)
    ack, complete = (urlparse(u).path for u in urls)
    return {"acknowledge": ack, "complete": complete}


def _events(case_id: int, kind: str) -> list[CaseEvent]:
    db.session.rollback()
    return list(
        db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == kind))
    )


def test_acknowledge_link_shows_a_form_and_acts_only_on_post_once(app, client, open_case, world, smtp_server):
    case = open_case("A")
    links = _links(smtp_server, "commune_committee.a@agency.test")

    page = client.get(links["acknowledge"])
    assert page.status_code == 200 and b'method="post"' in page.data
    assert case["reference"].encode() in page.data
    assert _events(case["id"], "email_action") == []  # a mail scanner following the link changes nothing

    assert client.post(links["acknowledge"]).status_code == 200
    [event] = _events(case["id"], "email_action")
    assert event.data["action"] == "acknowledge" and event.actor_id is None
    assert "A-commune_committee" in event.actor_label
    again = client.post(links["acknowledge"])
    assert again.status_code == 410 and "đã được sử dụng".encode() in again.data
    assert client.get(links["acknowledge"]).status_code == 410
    assert len(_events(case["id"], "email_action")) == 1


def test_complete_link_needs_an_outcome_and_completes_the_task(app, client, open_case, world, smtp_server):
    case = open_case("A")
    links = _links(smtp_server, "commune_committee.a@agency.test")
    assert client.post(links["complete"], data={"outcome": " "}).status_code == 400
    assert client.post(links["complete"], data={"outcome": "Visited the family"}).status_code == 200
    db.session.rollback()
    task = db.session.scalar(select(Task).where(Task.case_id == case["id"]))
    assert task.status == "done" and task.outcome == "Visited the family" and task.completed_by_id is None
    assert len(_events(case["id"], "email_action")) == 1
    assert len(_events(case["id"], "task_completed")) == 1
    # The task is no longer open: the other link of the same mail refuses, and stays unused.
    assert client.post(links["acknowledge"]).status_code == 409


def test_forged_or_expired_links_are_refused(app, client, open_case, world, smtp_server):
    case = open_case("A")
    task = db.session.scalar(select(Task).where(Task.case_id == case["id"]))
    token = make_token(task.id, "complete")
    assert client.get(f"/actions/{token[:-3]}abc").status_code == 404
    assert client.post(f"/actions/{token[:-3]}abc", data={"outcome": "x"}).status_code == 404
    app.config["EMAIL_ACTION_HOURS"] = -1
    assert client.post(f"/actions/{token}", data={"outcome": "x"}).status_code == 410
    db.session.rollback()
    assert db.session.get(Task, task.id).status == "open"


def test_links_are_signed_with_the_secret_key(app, client, open_case, world, smtp_server):
    case = open_case("A")
    task = db.session.scalar(select(Task).where(Task.case_id == case["id"]))
    app.config["SECRET_KEY"] = "another-secret"
    token = make_token(task.id, "acknowledge")
    app.config["SECRET_KEY"] = "test-secret"
    assert client.get(f"/actions/{token}").status_code == 404
