"""A serious case verified: an ad-hoc report to the province, at once, without the child's identity."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import AdhocReport

VERIFY_MILD = {
    "risk_level": "low",
    "serious_harm": False,
    "caregiver_is_abuser": False,
    "findings": "Checked.",
}


@pytest.fixture
def app_config(inprocess_mail):
    return inprocess_mail


def _to(smtp_server, email: str) -> list:
    return [m for rcpts, m in smtp_server.messages if email in rcpts]


def test_verified_sexual_abuse_reports_to_the_provinces_supervisors_at_once(
    api, open_case, fire, smtp_server
):
    case = open_case("C", harm_types=["sexual_abuse"])
    fire(case, "verify", "officer_c@test.vn", VERIFY_MILD)
    [report] = db.session.scalars(select(AdhocReport)).all()
    assert report.case_id == case["id"] and report.reasons == ["sexual_abuse"]
    [mail] = _to(smtp_server, "supervisor_p@test.vn")
    assert mail["Subject"] == f"[{case['reference']}] Báo cáo đột xuất: vụ việc nghiêm trọng"
    body = smtp_server.text(mail) + smtp_server.html(mail)
    assert "Bé Thử Nghiệm" not in body and "Thôn 1" not in body and "2016-05-01" not in body
    assert _to(smtp_server, "supervisor_d@test.vn") == []  # the province's supervisors, as the plan asks
    listed = api.get("/api/v1/reports/adhoc", "supervisor_p@test.vn").get_json()["items"]
    assert [(i["case_reference"], i["commune"], i["reasons"]) for i in listed] == [
        (case["reference"], "C", ["sexual_abuse"])
    ]
    trail = api.get(f"/api/v1/cases/{case['id']}/events", "officer_c@test.vn").get_json()["items"]
    assert any(e["kind"] == "adhoc_report" for e in trail)


def test_serious_harm_or_a_childs_death_is_serious_whatever_the_harm(open_case, fire, smtp_server):
    first = open_case("A")
    fire(first, "verify", "officer_a@test.vn", {**VERIFY_MILD, "serious_harm": True})
    second = open_case("B")
    fire(second, "verify", "officer_b@test.vn", {**VERIFY_MILD, "child_died": True})
    reasons = {r.case_id: r.reasons for r in db.session.scalars(select(AdhocReport))}
    assert reasons == {first["id"]: ["serious_harm"], second["id"]: ["child_died"]}


def test_ordinary_cases_and_dismissed_reports_make_no_adhoc_report(api, open_case, fire, smtp_server):
    fire(open_case("A"), "verify", "officer_a@test.vn", VERIFY_MILD)
    fire(open_case("A", harm_types=["trafficking"]), "dismiss", "officer_a@test.vn", {"reason": "Unfounded."})
    assert db.session.scalars(select(AdhocReport)).all() == []
    assert _to(smtp_server, "supervisor_p@test.vn") == []
    assert api.get("/api/v1/reports/adhoc", "officer_a@test.vn").status_code == 403
