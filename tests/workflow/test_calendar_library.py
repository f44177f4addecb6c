"""The calendar ahead: national holidays from the `holidays` package, seeded ahead and refreshed,
with administrators' edits kept on top. Deadlines named by date across Tết 2027 and 2028."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, update

from caseflow.extensions import db
from caseflow.models import CalendarDay
from caseflow.models.types import utcnow
from caseflow.notifications.escalation import run_scan
from caseflow.seed_calendar import calendar_years, library_days, refresh_calendar, tet_day

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _due(api, start: str, **rule) -> date:
    resp = api.get("/api/v1/calendar/due", "officer_a@test.vn", query_string={"start": start, **rule})
    assert resp.status_code == 200, resp.get_json()
    due = datetime.fromisoformat(resp.get_json()["due_at"]).astimezone(VN)
    assert due.time().isoformat() == "23:59:59"
    return due.date()


def test_the_library_knows_tet_the_hung_kings_and_observed_days():
    days = library_days(range(2026, 2029))
    assert tet_day(2027) == date(2027, 2, 6) and tet_day(2028) == date(2028, 1, 26)
    for day in (
        "2027-02-04",
        "2027-02-05",
        "2027-02-06",
        "2027-02-08",
        "2027-02-10",
        "2028-01-24",
        "2028-01-29",
    ):
        assert days[date.fromisoformat(day)][0] == "holiday", day
    assert "Hùng Vương" in days[date(2027, 4, 16)][1]
    assert days[date(2027, 5, 3)] == ("holiday", "Ngày Quốc tế Lao động (nghỉ bù)")  # 1/5 is a Saturday
    assert days[date(2026, 8, 22)][0] == "workday"  # a make-up Saturday the government announced


def test_every_year_up_to_two_ahead_is_seeded(api, world):
    this_year = utcnow().astimezone(VN).year
    assert calendar_years().stop - 1 == this_year + 2
    for year in range(this_year, this_year + 3):
        items = api.get("/api/v1/calendar", "officer_a@test.vn", query_string={"year": year}).get_json()[
            "items"
        ]
        tet = tet_day(year).isoformat()
        assert {"date": tet, "kind": "holiday", "source": "library"}.items() <= next(
            i for i in items if i["date"] == tet
        ).items()


@pytest.mark.parametrize(
    ("start", "days", "due_day"),
    [
        # Wednesday 2027-02-03 + 5 (a draft plan): Tết takes Thu 4 to Wed 10 February 2027 (the
        # weekend inside it), so Thu 11, Fri 12, Mon 15, Tue 16, Wed 2027-02-17.
        ("2027-02-03T10:00:00+07:00", 5, "2027-02-17"),
        # Tuesday 2027-02-02 + 2 (a plan approval): Wed 3, then Thu 2027-02-11.
        ("2027-02-02T15:00:00+07:00", 2, "2027-02-11"),
        # Saturday 2027-02-06, Tết itself, + 1: Thursday 2027-02-11.
        ("2027-02-06T09:00:00+07:00", 1, "2027-02-11"),
        # Friday 2028-01-21 + 1: Tết 2028 takes Mon 24 to Sat 29 January: Monday 2028-01-31.
        ("2028-01-21T16:00:00+07:00", 1, "2028-01-31"),
        # Friday 2028-01-21 + 5: Mon 31, Tue 1, Wed 2, Thu 3, Friday 2028-02-04.
        ("2028-01-21T16:00:00+07:00", 5, "2028-02-04"),
        # Friday 2028-04-28 + 1: 1/5 is a Monday, 30/4 a Sunday gives Tuesday 2 May off: Wed 2028-05-03.
        ("2028-04-28T10:00:00+07:00", 1, "2028-05-03"),
    ],
)
def test_working_day_deadlines_across_tet_2027_and_2028(api, world, start, days, due_day):
    assert _due(api, start, working_days=days) == date.fromisoformat(due_day)


def test_an_administrators_edits_survive_a_refresh(app, api, runner, world):
    # A make-up Saturday the library does not know, a one-off day off, and a library holiday the
    # administrator removed (the weekly rule applies that day).
    for day, body in (
        ("2027-02-20", {"kind": "workday", "name": "Làm bù Tết"}),
        ("2027-03-08", {"kind": "holiday", "name": "Nghỉ một ngày"}),
        ("2027-02-10", {"kind": "workday", "name": "Đi làm sớm"}),  # over a library Tết day
    ):
        assert api.put(f"/api/v1/calendar/{day}", "admin@test.vn", json=body).status_code == 200
    assert api.delete("/api/v1/calendar/2027-02-09", "admin@test.vn").status_code == 204

    result = runner.invoke(args=["caseflow", "refresh-calendar"])
    assert result.exit_code == 0, result.output
    assert "kept 2" in result.output  # 2027-02-09 and 2027-02-10 stay the administrator's

    items = {
        i["date"]: i
        for i in api.get("/api/v1/calendar", "admin@test.vn", query_string={"year": 2027}).get_json()["items"]
    }
    assert items["2027-02-20"] == {
        "date": "2027-02-20",
        "kind": "workday",
        "name": "Làm bù Tết",
        "source": "admin",
    }
    assert items["2027-03-08"]["source"] == "admin"
    assert items["2027-02-10"]["kind"] == "workday"
    assert "2027-02-09" not in items  # a Tuesday off no more
    assert _due(api, "2027-02-05T10:00:00+07:00", working_days=1) == date(2027, 2, 9)

    # Deleting the administrator's own row over a library day brings the library's day back.
    assert api.delete("/api/v1/calendar/2027-02-10", "admin@test.vn").status_code == 204
    assert db.session.get(CalendarDay, date(2027, 2, 10)).source == "library"


def test_a_refresh_corrects_library_rows_and_removes_those_the_library_dropped(app, world):
    db.session.execute(
        update(CalendarDay).where(CalendarDay.day == date(2027, 2, 8)).values(kind="workday", name="sai")
    )
    db.session.add(CalendarDay(day=date(2027, 6, 1), kind="holiday", name="không có", source="library"))
    db.session.commit()
    stats = refresh_calendar()
    assert stats["updated"] == 1 and stats["removed"] == 1
    db.session.expire_all()
    assert db.session.get(CalendarDay, date(2027, 2, 8)).kind == "holiday"
    assert db.session.get(CalendarDay, date(2027, 6, 1)) is None


def test_the_scan_seeds_a_year_that_comes_into_range(app, world):
    last = calendar_years().stop - 1
    db.session.execute(delete(CalendarDay).where(CalendarDay.day >= date(last, 1, 1)))
    db.session.commit()
    assert run_scan()["calendar_refreshed"] == 1
    assert db.session.get(CalendarDay, tet_day(last)).kind == "holiday"
    assert run_scan()["calendar_refreshed"] == 0  # one probe, nothing more to do


def test_healthz_warns_when_next_year_has_no_tet(client, world):
    body = client.get("/healthz").get_json()
    next_year = utcnow().astimezone(VN).year + 1
    assert body["calendar"] == {"status": "ok", "next_year": next_year, "tet": tet_day(next_year).isoformat()}
    db.session.execute(delete(CalendarDay).where(CalendarDay.day == tet_day(next_year)))
    db.session.commit()
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json()["status"] == "degraded"  # still answering
    calendar = resp.get_json()["calendar"]
    assert calendar["status"] == "warning" and str(next_year) in calendar["message"]
    assert calendar["message"] in resp.get_json()["warnings"]


def test_a_working_day_task_created_near_tet_2027_is_due_after_it(app, open_case, fire, world):
    """The engine uses the same calendar: a draft plan started Wed 2027-02-03 is due Wed 2027-02-17."""
    from caseflow.services.calendar import due_at

    start = datetime(2027, 2, 3, 10, 0, tzinfo=VN)
    assert due_at(start, working_days=5) == datetime(2027, 2, 17, 23, 59, 59, tzinfo=VN).astimezone(UTC)
    assert due_at(start, hours=12) == start + timedelta(hours=12)
    assert (
        db.session.scalar(select(CalendarDay.source).where(CalendarDay.day == date(2027, 2, 6))) == "library"
    )
