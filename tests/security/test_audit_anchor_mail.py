"""Each anchor's digest is mailed to the province's supervisors: a witness the host cannot recall."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from caseflow.extensions import db
from caseflow.models import Notification
from tests.security.conftest import CHILD_NAME

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.fixture
def app_config(tmp_path, smtp_server) -> dict:
    return {
        "CASEFLOW_ANCHOR_DIR": str(tmp_path / "anchors"),
        "CASEFLOW_ANCHOR_KEY": "an-anchor-key-for-the-mail-tests",
        "REDIS_URL": None,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_TIMEOUT": 10,
    }


def _anchor(runner):  # noqa: ANN202
    result = runner.invoke(args=["caseflow", "audit-anchor"])
    assert result.exit_code == 0, result.output
    return result


def _last_line(app) -> dict:
    path = Path(app.config["CASEFLOW_ANCHOR_DIR"]) / "audit-anchors.jsonl"
    return json.loads(path.read_text().splitlines()[-1])


def _anchor_mails(smtp_server) -> list:
    subjects = ("Dấu neo nhật ký hồ sơ CaseFlow", "CaseFlow audit trail anchor")
    return [(r, m) for r, m in smtp_server.messages if m["Subject"] in subjects]


def test_the_digest_reaches_the_province_supervisors_and_nothing_of_a_case(
    app, runner, world, identity_case, smtp_server
):
    world.users["supervisor_d"].locale = "en"  # a district supervisor: not the province's witness
    db.session.commit()
    result = _anchor(runner)
    line = _last_line(app)
    assert "mailed to 1 witness(es)" in result.output

    anchors = _anchor_mails(smtp_server)
    assert [rcpts for rcpts, _ in anchors] == [[world.email("supervisor_p")]]
    [(_, message)] = anchors
    text, html = smtp_server.text(message), smtp_server.html(message)
    assert message["Subject"] == "Dấu neo nhật ký hồ sơ CaseFlow"
    assert f"Mã tóm tắt nhật ký: {line['digest']}" in text and line["digest"] in html
    assert f"Số nhật ký hồ sơ: {line['cases']}" in text and line["at"] in text
    assert "(giờ Việt Nam)" in text
    everything = "\n".join((message["Subject"], text, html))
    assert CHILD_NAME not in everything and identity_case["reference"] not in everything
    assert "/cases/" not in everything
    assert not SNAKE.findall(text) and not SNAKE.findall(re.sub(r"<[^>]+>", "", html))

    # The next anchor is mailed again (a line of its own); the same line never twice.
    _anchor(runner)
    assert len(_anchor_mails(smtp_server)) == 2
    assert db.session.query(Notification).filter(Notification.kind == "audit_anchor").count() == 2


def test_in_english_for_an_english_reader(app, runner, world, smtp_server):
    world.users["supervisor_p"].locale = "en"
    db.session.commit()
    _anchor(runner)
    [(_, message)] = _anchor_mails(smtp_server)
    text = smtp_server.text(message)
    assert message["Subject"] == "CaseFlow audit trail anchor"
    assert f"Digest of the trails: {_last_line(app)['digest']}" in text
    assert "Case trails: 0" in text and "(Vietnam time)" in text


def test_turned_off_no_mail_is_queued(app, runner, world, smtp_server):
    app.config["CASEFLOW_ANCHOR_MAIL"] = "0"
    assert "mailed to 0 witness(es)" in _anchor(runner).output
    assert db.session.query(Notification).count() == 0
