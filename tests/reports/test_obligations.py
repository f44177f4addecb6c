"""The reports each commune owes: listed from the workflow file, submitted with the figures
frozen, and on the overdue ladder like a task (a real RQ worker and SMTP server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from caseflow.extensions import db
from caseflow.models import ReportObligation
from caseflow.services import obligations
from caseflow.workflow import current_engine
from caseflow.workflow.clock import LOCAL_TZ


def _current_annual_year() -> int:
    """The year whose annual report (15 November to 14 November) covers today."""
    today = datetime.now(UTC).astimezone(LOCAL_TZ).date()
    return today.year + 1 if (today.month, today.day) >= (11, 15) else today.year


def _only_open(unit_code: str, code: str, due_at: datetime) -> ReportObligation:
    """Every obligation of the current year submitted but one, due at `due_at`: a quiet ladder."""
    year = datetime.now(UTC).astimezone(LOCAL_TZ).year
    obligations.ensure(current_engine().definition, year)
    rows = db.session.scalars(select(ReportObligation).where(ReportObligation.year == year)).all()
    target = next(r for r in rows if r.org_unit.code == unit_code and r.code == code)
    db.session.execute(
        update(ReportObligation)
        .where(ReportObligation.year == year, ReportObligation.id != target.id)
        .values(submitted_at=datetime.now(UTC))
    )
    db.session.execute(
        update(ReportObligation)
        .where(ReportObligation.id == target.id)
        .values(due_at=due_at, created_at=due_at - timedelta(days=30))  # tracked before it fell due
    )
    db.session.commit()
    return target


def test_each_commune_owes_the_six_month_and_annual_reports_due_15_may_and_15_november(api, world):
    resp = api.get("/api/v1/reports/obligations", "officer_a@test.vn", query_string={"year": 2031})
    assert resp.status_code == 200
    items = resp.get_json()["items"]
    assert [(i["org_unit"], i["period"], i["due_at"], i["status"]) for i in items] == [
        ("A", "six_month", "2031-05-15T16:59:59+00:00", "due"),  # 23:59:59 Vietnam time
        ("A", "annual", "2031-11-15T16:59:59+00:00", "due"),
    ]
    assert items[0]["from"] == "2030-11-15" and items[0]["to"] == "2031-05-14"
    assert items[0]["label"] == "Báo cáo 6 tháng" and items[0]["submitted_at"] is None
    province = api.get("/api/v1/reports/obligations", "supervisor_p@test.vn", query_string={"year": 2031})
    assert sorted((i["org_unit"], i["period"]) for i in province.get_json()["items"]) == sorted(
        (unit, period) for unit in "ABC" for period in ("six_month", "annual")
    )
    district = api.get("/api/v1/reports/obligations", "supervisor_d@test.vn", query_string={"year": 2031})
    assert {i["org_unit"] for i in district.get_json()["items"]} == {"C"}
    past = api.get("/api/v1/reports/obligations", "officer_a@test.vn", query_string={"year": 2020})
    assert {i["status"] for i in past.get_json()["items"]} == {"overdue"}


def test_submitting_freezes_the_figures_as_they_stood(api, world, open_case):
    year = _current_annual_year()
    open_case("A")
    items = api.get("/api/v1/reports/obligations", "chair_a@test.vn", query_string={"year": year}).get_json()[
        "items"
    ]
    annual = next(i for i in items if i["period"] == "annual")
    resp = api.post(f"/api/v1/reports/obligations/{annual['id']}/submit", "chair_a@test.vn")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "submitted" and body["submitted_at"]
    frozen = {i["code"]: i["value"] for i in body["figures"]["indicators"]}
    assert frozen["cases_received"] == 1
    open_case("A")  # a later case does not change what was reported
    db.session.expire_all()
    row = db.session.get(ReportObligation, annual["id"])
    assert {i["code"]: i["value"] for i in row.figures["indicators"]}["cases_received"] == 1
    again = api.post(f"/api/v1/reports/obligations/{annual['id']}/submit", "officer_a@test.vn")
    assert again.status_code == 409
    listed = api.get("/api/v1/reports/obligations", "supervisor_p@test.vn", query_string={"year": year})
    statuses = {(i["org_unit"], i["period"]): i["status"] for i in listed.get_json()["items"]}
    assert statuses[("A", "annual")] == "submitted"


def test_only_the_communes_own_staff_submit_its_report(api, world):
    items = api.get(
        "/api/v1/reports/obligations", "officer_a@test.vn", query_string={"year": 2031}
    ).get_json()["items"]
    url = f"/api/v1/reports/obligations/{items[0]['id']}/submit"
    assert api.post(url, "officer_b@test.vn").status_code == 404
    assert api.post(url, "supervisor_p@test.vn").status_code == 403
    assert api.post("/api/v1/reports/obligations/99999999999/submit", "officer_a@test.vn").status_code == 404
    assert (
        api.get("/api/v1/reports/obligations", "officer_a@test.vn", query_string={"year": "20x1"}).status_code
        == 422
    )


class TestLadder:
    """An obligation passing its due date, through a real RQ worker to a real SMTP server."""

    pytestmark = pytest.mark.redis

    @pytest.fixture
    def app_config(self, mail_config):
        return {**mail_config, "REPORT_OBLIGATIONS_SCAN": True}

    def test_overdue_report_reaches_the_communes_chair_then_the_province(
        self, app, world, worker, smtp_server
    ):
        now = datetime.now(UTC)
        row = _only_open("A", "six_month", now - timedelta(hours=1))
        done = worker.cli("escalate")
        assert done.returncode == 0, done.stdout + done.stderr
        worker.burst()
        [(recipients, mail)] = smtp_server.wait_for(1)
        assert recipients == ["chair_a@test.vn"]
        assert mail["Subject"] == "Quá hạn nộp Báo cáo 6 tháng (cấp 1): Xã A"
        text = smtp_server.text(mail)
        assert "Kỳ báo cáo:" in text and "(giờ Việt Nam)" in text and "/supervision/reports" in text

        db.session.execute(
            update(ReportObligation)
            .where(ReportObligation.id == row.id)
            .values(due_at=now - timedelta(hours=25))
        )
        db.session.commit()
        assert worker.cli("escalate").returncode == 0
        worker.burst()
        messages = smtp_server.wait_for(2)
        assert messages[1][0] == ["supervisor_p@test.vn"]
        assert messages[1][1]["Subject"] == "Quá hạn nộp Báo cáo 6 tháng (cấp 2): Xã A"
        assert worker.cli("escalate").returncode == 0  # nothing new: each level once
        worker.burst()
        assert len(smtp_server.messages) == 2

    def test_report_already_late_when_first_tracked_is_listed_but_not_chased(
        self, app, world, worker, smtp_server
    ):
        row = _only_open("A", "annual", datetime.now(UTC) - timedelta(days=3))
        db.session.execute(
            update(ReportObligation).where(ReportObligation.id == row.id).values(created_at=datetime.now(UTC))
        )
        db.session.commit()
        assert worker.cli("escalate").returncode == 0
        worker.burst()
        assert smtp_server.messages == []
        db.session.expire_all()
        assert db.session.get(ReportObligation, row.id).status(datetime.now(UTC)) == "overdue"


class TestWarning:
    @pytest.fixture
    def app_config(self, inprocess_mail):
        return {**inprocess_mail, "REPORT_OBLIGATIONS_SCAN": True}

    def test_report_due_soon_warns_the_communes_officer_and_chair_once(self, app, world, smtp_server):
        from caseflow.notifications.escalation import run_scan

        _only_open("B", "annual", datetime.now(UTC) + timedelta(days=3))
        assert run_scan()["obligation_warnings"] == 2
        assert sorted(r[0] for r, _ in smtp_server.wait_for(2)) == ["chair_b@test.vn", "officer_b@test.vn"]
        assert smtp_server.messages[0][1]["Subject"] == "Sắp đến hạn nộp Báo cáo năm (Xã B)"
        assert run_scan()["obligation_warnings"] == 0
