"""The reports each commune owes: listed from the workflow file, submitted with the figures
frozen, and on the overdue ladder the file declares for them, climbed like a task's (a real RQ
worker and SMTP server)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from caseflow.extensions import db
from caseflow.models import ReportObligation, User
from caseflow.services import obligations
from caseflow.workflow import current_engine
from caseflow.workflow.clock import LOCAL_TZ

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _current_annual_year() -> int:
    """The year whose annual report (15 November to 14 November) covers today."""
    today = datetime.now(UTC).astimezone(LOCAL_TZ).date()
    return today.year + 1 if (today.month, today.day) >= (11, 15) else today.year


def _owed(unit_code: str, code: str, year: int) -> ReportObligation:
    """Every obligation of `year` submitted but one, tracked since before it fell due: a quiet ladder."""
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
        .values(created_at=target.due_at - timedelta(days=60))
    )
    db.session.commit()
    return target


def _words(text: str) -> None:
    """What a person reads: no code names (snake_case), no template left unfilled."""
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), text
    assert "%(" not in text and "{{" not in text, text


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
    """An obligation passing its due date, through a real RQ worker to a real SMTP server, on the
    working-day ladder `reports.escalation` declares (named times, Vietnam time)."""

    pytestmark = pytest.mark.redis

    @pytest.fixture
    def app_config(self, mail_config):
        return {**mail_config, "REPORT_OBLIGATIONS_SCAN": True}

    @pytest.fixture
    def scan(self, app, worker, smtp_server):
        """Run one scan as the worker runs it, at a named moment; the mails it sent since the last."""
        from caseflow.jobs.scan import scan as scan_job
        from caseflow.worker import SCAN, get_queue

        seen = 0

        def run(*when: int) -> list[tuple[list[str], object]]:
            nonlocal seen
            get_queue(app, SCAN).enqueue(scan_job, datetime(*when, tzinfo=VN).isoformat())
            worker.burst()  # the scan job, then the mail jobs it enqueued
            new, seen = smtp_server.messages[seen:], len(smtp_server.messages)
            return new

        return run

    def test_overdue_report_reaches_the_communes_chair_then_the_province(self, app, world, scan, smtp_server):
        _owed("A", "six_month", 2026)  # due Friday 15 May 2026, 23:59 Vietnam time
        db.session.execute(update(User).where(User.email == "supervisor_p@test.vn").values(locale="en"))
        db.session.commit()
        assert scan(2026, 5, 16, 10, 0) == []  # Saturday: the ladder waits for a working morning
        [(recipients, mail)] = scan(2026, 5, 18, 7, 0)
        assert recipients == ["chair_a@test.vn"]
        assert mail["Subject"] == "Quá hạn nộp Báo cáo 6 tháng (cấp 1): Xã A"
        text, html = smtp_server.text(mail), smtp_server.html(mail)
        assert text.startswith("Xã A chưa nộp Báo cáo 6 tháng đã quá hạn.")
        for words in (
            "Báo cáo: Báo cáo 6 tháng 2026",
            "Kỳ báo cáo: 15/11/2025 - 14/05/2026",
            "(giờ Việt Nam)",
        ):
            assert words in text
        assert "Xem các báo cáo" in html and "/supervision/reports" in text
        _words(text)
        _words(mail["Subject"])
        assert scan(2026, 5, 18, 9, 0) == []  # each level once
        assert scan(2026, 5, 19, 9, 0) == []  # the supervisors' level is three working days on
        [(recipients, mail)] = scan(2026, 5, 20, 7, 0)
        assert recipients == ["supervisor_p@test.vn"]  # Xã A sits under the province itself
        assert mail["Subject"] == "Six-month report overdue (level 2): Xã A"
        text = smtp_server.text(mail)
        assert text.startswith("Xã A has not submitted the Six-month report; it is overdue.")
        assert "Period: 15/11/2025 - 14/05/2026" in text and "See the reports:" in text
        _words(text)
        assert scan(2026, 5, 21, 9, 0) == []  # the top of the ladder: nothing new

    def test_report_already_late_when_first_tracked_is_listed_but_not_chased(self, app, world, scan):
        row = _owed("A", "annual", 2026)
        db.session.execute(
            update(ReportObligation).where(ReportObligation.id == row.id).values(created_at=row.due_at)
        )
        db.session.commit()
        assert scan(2026, 11, 20, 9, 0) == []
        db.session.expire_all()
        assert db.session.get(ReportObligation, row.id).status(datetime.now(UTC)) == "overdue"


class TestWarning:
    @pytest.fixture
    def app_config(self, inprocess_mail):
        return {**inprocess_mail, "REPORT_OBLIGATIONS_SCAN": True}

    def test_report_due_soon_warns_the_communes_officer_and_chair_once_in_office_hours(
        self, app, world, smtp_server
    ):
        from caseflow.notifications.escalation import run_scan

        _owed("B", "annual", 2026)  # due Sunday 15 November 2026; warned from a week before
        assert run_scan(datetime(2026, 11, 10, 5, 0, tzinfo=VN))["obligation_warnings"] == 0  # before 07:00
        assert run_scan(datetime(2026, 11, 10, 9, 0, tzinfo=VN))["obligation_warnings"] == 1
        mails = smtp_server.wait_for(2)
        assert sorted(r[0] for r, _ in mails) == ["chair_b@test.vn", "officer_b@test.vn"]
        assert {m["Subject"] for _, m in mails} == {"Sắp đến hạn nộp Báo cáo năm (Xã B)"}
        text = smtp_server.text(mails[0][1])
        assert text.startswith("Xã B cần nộp Báo cáo năm trước hạn dưới đây.") and "Hạn: 15/11/2026" in text
        _words(text)
        assert run_scan(datetime(2026, 11, 11, 9, 0, tzinfo=VN))["obligation_warnings"] == 0
