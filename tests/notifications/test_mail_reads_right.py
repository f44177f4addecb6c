"""Mail as a mail client shows it: the raw message parsed with the standard library keeps every
space and diacritic of the subject and body, in the recipient's language, with no internal code."""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path

import pytest

from caseflow.extensions import db
from caseflow.models import Agency

POLICE_TASK_VI = "Bảo vệ khẩn cấp: ngăn chặn hành vi xâm hại"
POLICE_TASK_EN = "Emergency protection: stop the harm"
# A trigger, task kind, agency or field code: snake_case words, or the test world's agency codes.
INTERNAL = re.compile(r"\b[a-z]+_[a-z_]+\b|\b[A-C]-(police|health|commune_committee)\b")

VERIFY_SERIOUS = {
    "risk_level": "high",
    "serious_harm": True,
    "caregiver_is_abuser": False,
    "findings": "Vết bầm trên tay.",
}


@pytest.fixture
def app_config(inprocess_mail):
    return inprocess_mail


def _visible_text(message: email.message.EmailMessage) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text + re.sub(r"<[^>]+>|https?://\S+", " ", html)


def test_a_long_vietnamese_subject_keeps_every_space_when_decoded(app, open_case, fire, world, smtp_server):
    case = open_case("A")
    fire(case, "verify", "officer_a@test.vn", VERIFY_SERIOUS)
    # parsed from the raw bytes, policy.default; the police also get the evidence task's mail
    [message] = [m for m in smtp_server.to("police.a@agency.test") if POLICE_TASK_VI in m["Subject"]]
    assert message["Subject"] == f"[{case['reference']}] Nhiệm vụ mới: {POLICE_TASK_VI}"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"Nhiệm vụ: {POLICE_TASK_VI}" in body
    assert "giờ Việt Nam" in body and "Xem hồ sơ" in body
    assert not INTERNAL.findall(message["Subject"] + _visible_text(message))


def test_an_english_speaking_agency_reads_its_mail_in_english(app, open_case, fire, world, smtp_server):
    db.session.get(Agency, world.agencies["A-police"].id).locale = "en"
    db.session.commit()
    case = open_case("A")
    fire(case, "verify", "officer_a@test.vn", VERIFY_SERIOUS)
    [message] = [m for m in smtp_server.to("police.a@agency.test") if POLICE_TASK_EN in m["Subject"]]
    assert message["Subject"] == f"[{case['reference']}] New task: {POLICE_TASK_EN}"
    text = _visible_text(message)
    assert "Vietnam time" in text and "Nhiệm vụ" not in text
    assert not INTERNAL.findall(message["Subject"] + text)


@pytest.mark.parametrize("app_config", [{"MAIL_SERVER": None, "REDIS_URL": None}])
def test_the_mail_file_of_the_embedded_default_decodes_the_same(app, open_case, fire, world):
    case = open_case("A")
    fire(case, "verify", "officer_a@test.vn", VERIFY_SERIOUS)
    subjects = []
    for path in (Path(app.instance_path) / "mail").glob("*.eml"):
        parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        subjects.append(parsed["Subject"])
        assert parsed.get_body(preferencelist=("plain",)).get_content().strip()
    assert f"[{case['reference']}] Nhiệm vụ mới: {POLICE_TASK_VI}" in subjects
