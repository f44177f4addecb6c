"""The trail tells who acted through an emailed link in the reader's language, from data."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import CaseEvent
from caseflow.services import audit


@pytest.fixture
def app_config(smtp_server):
    return {
        "REDIS_URL": None,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_TIMEOUT": 10,
    }


def _health_links(smtp_server) -> dict[str, str]:
    [message] = [m for rcpts, m in smtp_server.messages if "health.a@agency.test" in rcpts]
    urls = re.findall(r"http://\S+/actions/\S+", smtp_server.text(message))
    return dict(zip(("acknowledge", "complete"), (urlparse(u).path for u in urls), strict=False))


def _trail(web, case_id: int, locale: str) -> str:
    officer = web("officer_a")
    with officer.client.session_transaction() as session:
        session["locale"] = locale
    page = officer.text(f"/cases/{case_id}")
    return re.sub(r"\s+", " ", page)


def test_an_emailed_link_action_reads_in_the_readers_language(
    app, client, web, open_case, smtp_server, runner, api
):
    case = open_case("A", serious_harm=True)
    links = _health_links(smtp_server)
    assert client.post(links["acknowledge"]).status_code == 200
    assert client.post(links["complete"], data={"outcome": "Visited the family"}).status_code == 200

    db.session.rollback()
    acted = db.session.scalars(
        select(CaseEvent).where(
            CaseEvent.case_id == case["id"], CaseEvent.kind.in_(("email_action", "task_completed"))
        )
    ).all()
    assert len(acted) == 3  # two link actions and the completed task
    # Stored as data, no sentence in any language.
    assert {(e.actor_label, e.data["via"]) for e in acted} == {("A-health", "email_link")}

    vi = _trail(web, case["id"], "vi")
    assert vi.count("health A, qua liên kết email") == 3
    assert "A-health" not in vi and "by emailed link" not in vi
    en = _trail(web, case["id"], "en")
    assert en.count("health A, by emailed link") == 3
    assert "qua liên kết email" not in en

    items = api.get(f"/api/v1/cases/{case['id']}/events", "officer_a@test.vn").get_json()["items"]
    by_link = [i for i in items if i["via"] == "email_link"]
    assert len(by_link) == 3 and {i["actor_agency"] for i in by_link} == {"A-health"}
    assert all(i["actor_agency"] is None and i["via"] is None for i in items if i not in by_link)

    result = runner.invoke(args=["caseflow", "verify-audit"])
    assert result.exit_code == 0, result.output


def test_an_old_rows_sentence_label_still_reads_and_verifies(app, web, open_case, runner, api):
    case = open_case("A")
    # As actions/routes.py wrote it before the actor was stored as a code: kept, hashed, readable.
    audit.add(
        case["id"],
        "email_action",
        actor_label="health A (A-health) qua liên kết email",
        data={"task_id": None, "action": "acknowledge", "agency": "A-health"},
    )
    db.session.commit()

    assert "health A, qua liên kết email" in _trail(web, case["id"], "vi")
    assert "health A, by emailed link" in _trail(web, case["id"], "en")
    items = api.get(f"/api/v1/cases/{case['id']}/events", "officer_a@test.vn").get_json()["items"]
    [old] = [i for i in items if i["kind"] == "email_action"]
    assert old["actor_agency"] == "A-health" and old["via"] == "email_link"
    result = runner.invoke(args=["caseflow", "verify-audit"])
    assert result.exit_code == 0, result.output
