"""A province adds a field to a trigger and a notification in its copy of the workflow file:
with no code change and no migration the field is kept, returned by the API and shown on the
case page, and the mail goes to the recipients the file declares."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import Notification
from caseflow.notifications.render import render_notification
from caseflow.workflow.definition import WorkflowError, load_definition
from tests.conftest import PASSWORD, ROOT

SHIPPED = ROOT / "workflows" / "decree56.yaml"
VERIFY_MILD = {"risk_level": "low", "serious_harm": False, "caregiver_is_abuser": False, "findings": "ok"}
FINDINGS = "      findings: {type: text, required: true, store: column}\n"
NEW_FIELD = (
    "      school_contacted: {type: string, label: {vi: 'Giáo viên đã liên hệ', en: 'Teacher contacted'}}\n"
)
NEW_NOTIFICATION = """notifications:
  verified_for_province:
    recipients: [province.supervisor, owning_commune.chair]
    subject: {vi: "[{ref}] Đã xác minh tin báo", en: "[{ref}] Report verified"}
    message: {vi: "Tin báo của hồ sơ {ref} đã được xác minh.", en: "The report of case {ref} was verified."}
"""


def _province_copy(tmp_path, extra_notification: str = NEW_NOTIFICATION):
    text = SHIPPED.read_text(encoding="utf-8")
    assert text.count(FINDINGS) == 1 and text.count("notifications:\n") == 1
    text = text.replace(FINDINGS, FINDINGS + NEW_FIELD)
    text = text.replace(
        "    completes: [verify]\n    # Art. 26.3",
        "    completes: [verify]\n    notify: [verified_for_province]\n    # Art. 26.3",
        1,
    )
    text = text.replace("notifications:\n", extra_notification, 1)
    path = tmp_path / "province.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def app_config(tmp_path):
    return {"CASEFLOW_WORKFLOW": str(_province_copy(tmp_path))}


def _sign_in(client, email: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    resp = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302


def test_a_field_and_a_notification_added_in_the_file_work_end_to_end(api, client, open_case, fire, app):
    case = open_case()
    verified = fire(case, "verify", "officer_a@test.vn", {**VERIFY_MILD, "school_contacted": "Cô Lan, lớp 4"})
    assert verified["data"] == {"school_contacted": "Cô Lan, lớp 4"}
    assert api.get(f"/api/v1/cases/{case['id']}", "chair_a@test.vn").get_json()["data"] == {
        "school_contacted": "Cô Lan, lớp 4"
    }

    _sign_in(client, "chair_a@test.vn")
    page = client.get(f"/cases/{case['id']}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Giáo viên đã liên hệ" in page or "Teacher contacted" in page
    assert "Cô Lan, lớp 4" in page
    assert "school_contacted" not in page  # the label, never the code name

    rows = db.session.scalars(
        select(Notification)
        .where(Notification.kind == "verified_for_province")
        .order_by(Notification.recipient)
    ).all()
    assert [r.recipient for r in rows] == ["chair_a@test.vn", "supervisor_p@test.vn"]
    assert {r.status for r in rows} == {"sent"}  # delivered in-process after the commit
    rendered = render_notification(db.session, rows[0])
    assert rendered.subject == f"[{verified['reference']}] Đã xác minh tin báo"
    assert "đã được xác minh" in rendered.text
    assert "Cô Lan" not in rendered.text  # a mail never carries the case's free text


def test_an_unknown_recipient_is_refused_with_its_line(tmp_path):
    broken = NEW_NOTIFICATION.replace("province.supervisor", "province.mayor")
    path = _province_copy(tmp_path, broken)
    with pytest.raises(WorkflowError, match="unknown recipient 'province.mayor'") as exc:
        load_definition(path)
    line = path.read_text(encoding="utf-8").splitlines().index("notifications:") + 3
    assert f"{path}:{line}:" in str(exc.value)


def test_a_trigger_may_only_notify_what_the_file_declares(tmp_path):
    path = _province_copy(tmp_path, "notifications:\n")
    with pytest.raises(WorkflowError, match="'verified_for_province' is not under notifications"):
        load_definition(path)
