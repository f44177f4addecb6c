"""The two legal clocks: wall-clock hours and Vietnamese working days, with named dates.

Working days end at 23:59:59 Asia/Ho_Chi_Minh (16:59:59 UTC) on the N-th working day
after the start's local date; the start day itself is never counted.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from caseflow import create_app
from caseflow.extensions import db
from caseflow.seed_calendar import shipped_days
from caseflow.services import calendar
from caseflow.workflow.clock import WorkingCalendar, compute_due
from tests.conftest import TEST_CONFIG

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def shipped() -> WorkingCalendar:
    return WorkingCalendar({day: kind for day, (kind, _) in shipped_days().items()})


def local(*args) -> datetime:
    return datetime(*args, tzinfo=VN)


def end_of_local_day(day: str) -> datetime:
    """23:59:59 in Viet Nam on `day`, as UTC."""
    return datetime.combine(
        date.fromisoformat(day), datetime.max.time().replace(microsecond=0), tzinfo=VN
    ).astimezone(UTC)


# -- working days, pure function ----------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "due_day"),
    [
        # Friday 2026-03-06 + 1: Saturday and Sunday are off, so Monday 2026-03-09.
        (local(2026, 3, 6, 9, 0), 1, "2026-03-09"),
        # Monday 2026-03-02 + 5: the Monday itself does not count, so Monday 2026-03-09.
        (local(2026, 3, 2, 8, 0), 5, "2026-03-09"),
        # Saturday 2026-03-07 (a day off) + 1: Sunday is off too, Monday 2026-03-09.
        (local(2026, 3, 7, 10, 0), 1, "2026-03-09"),
        # Sunday 2026-03-08 + 1: Monday 2026-03-09.
        (local(2026, 3, 8, 10, 0), 1, "2026-03-09"),
        # Friday 2025-04-25 + 1: Saturday 2025-04-26 is a make-up working day.
        (local(2025, 4, 25, 14, 0), 1, "2025-04-26"),
        # Tuesday 2025-04-29 + 1: 30/4 and 1/5 holidays, 2/5 swapped holiday, weekend: Monday 2025-05-05.
        (local(2025, 4, 29, 14, 0), 1, "2025-05-05"),
        # Thursday 2025-04-24 + 3: Fri 25, Sat 26 (make-up), Sunday off, Mon 2025-04-28.
        (local(2025, 4, 24, 14, 0), 3, "2025-04-28"),
        # Friday 2026-02-13 + 1: weekend, the Tết week 2026-02-16..20, weekend: Monday 2026-02-23.
        (local(2026, 2, 13, 16, 0), 1, "2026-02-23"),
        # Wednesday 2026-02-11 + 5 (draft plan): Thu 12, Fri 13, Mon 23, Tue 24, Wed 2026-02-25.
        (local(2026, 2, 11, 10, 0), 5, "2026-02-25"),
        # A start inside Tết (Tuesday 2026-02-17) + 1: Monday 2026-02-23.
        (local(2026, 2, 17, 10, 0), 1, "2026-02-23"),
        # Friday 2026-04-24 + 1: Monday 2026-04-27 is the Hùng Kings day off: Tuesday 2026-04-28.
        (local(2026, 4, 24, 10, 0), 1, "2026-04-28"),
        # Wednesday 2026-04-29 + 1: 30/4 (Thu) and 1/5 (Fri) holidays, weekend: Monday 2026-05-04.
        (local(2026, 4, 29, 10, 0), 1, "2026-05-04"),
        # Monday 2026-08-31 + 1: 1/9 and 2/9 are National Day holidays: Thursday 2026-09-03.
        (local(2026, 8, 31, 10, 0), 1, "2026-09-03"),
        # Thursday 2027-04-29 + 1: 30/4 holiday, 1/5 a Saturday gives Monday 2027-05-03 off: Tue 2027-05-04.
        (local(2027, 4, 29, 10, 0), 1, "2027-05-04"),
        # Thursday 2026-12-31 + 1: New Year's Day (Friday 2027-01-01) off: Monday 2027-01-04.
        (local(2026, 12, 31, 10, 0), 1, "2027-01-04"),
    ],
)
def test_working_day_deadline_with_shipped_calendar(shipped, start, days, due_day):
    assert compute_due(start, shipped, working_days=days) == end_of_local_day(due_day)


def test_working_day_deadline_ends_at_235959_local_time(shipped):
    due = compute_due(local(2026, 3, 9, 8, 0), shipped, working_days=1)
    assert due == datetime(2026, 3, 10, 16, 59, 59, tzinfo=UTC)
    assert due.tzinfo is not None and due.utcoffset() == timedelta(0)
    assert due.astimezone(VN).strftime("%H:%M:%S%z") == "23:59:59+0700"


def test_start_day_is_not_counted_even_at_one_minute_past_midnight(shipped):
    # Tuesday 2026-03-10 00:01 local: one working day ends Wednesday 2026-03-11, not Tuesday.
    assert compute_due(local(2026, 3, 10, 0, 1), shipped, working_days=1) == end_of_local_day("2026-03-11")
    # ... and the same at 23:59 of that Tuesday.
    assert compute_due(local(2026, 3, 10, 23, 59), shipped, working_days=1) == end_of_local_day("2026-03-11")


def test_late_evening_start_counts_from_the_local_date_not_the_utc_date(shipped):
    # 2026-03-05T18:30Z is Friday 2026-03-06 01:30 in Viet Nam: + 1 is Monday 2026-03-09.
    # Counting from the UTC date (Thursday) would wrongly give Friday 2026-03-06.
    start = datetime(2026, 3, 5, 18, 30, tzinfo=UTC)
    assert compute_due(start, shipped, working_days=1) == end_of_local_day("2026-03-09")
    # One second before local midnight (16:59:59Z Thursday) still counts from Thursday.
    just_before = datetime(2026, 3, 5, 16, 59, 59, tzinfo=UTC)
    assert compute_due(just_before, shipped, working_days=1) == end_of_local_day("2026-03-06")


def test_same_moment_in_any_offset_gives_the_same_deadline(shipped):
    moment = local(2026, 2, 13, 23, 30)
    for zone in (UTC, ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")):
        assert compute_due(moment.astimezone(zone), shipped, working_days=2) == end_of_local_day("2026-02-24")


def test_twelve_hour_rule_is_wall_clock_through_nights_weekends_and_tet(shipped):
    # Sunday 2026-02-15 20:00 local, the eve of the Tết week: due Monday 08:00 all the same.
    start = local(2026, 2, 15, 20, 0)
    assert compute_due(start, shipped, hours=12) == local(2026, 2, 16, 8, 0)
    # Friday 2026-03-06 22:00 local: due Saturday 10:00, a day off.
    assert compute_due(local(2026, 3, 6, 22, 0), shipped, hours=12) == local(2026, 3, 7, 10, 0)


def test_twelve_hour_rule_returns_utc_to_the_second(shipped):
    start = datetime(2026, 3, 5, 18, 30, 15, 123456, tzinfo=UTC)
    due = compute_due(start, shipped, hours=12)
    assert due == datetime(2026, 3, 6, 6, 30, 15, 123456, tzinfo=UTC)
    assert due.utcoffset() == timedelta(0)


def test_make_up_saturday_counts_and_the_swapped_friday_does_not(shipped):
    assert shipped.is_working_day(date(2025, 4, 26))  # Saturday, make-up working day
    assert not shipped.is_working_day(date(2025, 5, 2))  # Friday, swapped holiday
    assert not shipped.is_working_day(date(2025, 4, 27))  # an ordinary Sunday
    assert shipped.working_days_between(date(2025, 4, 25), date(2025, 5, 5)) == 4  # 26/4, 28/4, 29/4, 5/5


def test_tet_2026_week_is_five_holidays(shipped):
    tet = [date(2026, 2, 16) + timedelta(days=i) for i in range(5)]
    assert [d.strftime("%a") for d in tet] == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert not any(shipped.is_working_day(d) for d in tet)
    assert shipped.is_working_day(date(2026, 2, 13)) and shipped.is_working_day(date(2026, 2, 23))


def test_naive_start_and_ambiguous_rule_are_refused(shipped):
    with pytest.raises(ValueError, match="time zone"):
        compute_due(datetime(2026, 3, 6, 9, 0), shipped, hours=12)
    with pytest.raises(ValueError, match="exactly one"):
        compute_due(local(2026, 3, 6, 9, 0), shipped, hours=12, working_days=1)
    with pytest.raises(ValueError, match="exactly one"):
        compute_due(local(2026, 3, 6, 9, 0), shipped)


# -- the same rule through the API ----------------------------------------------------------


def _due(api, as_="officer_a@test.vn", **params) -> datetime:
    resp = api.get("/api/v1/calendar/due", as_, query_string=params)
    assert resp.status_code == 200, resp.get_json()
    return datetime.fromisoformat(resp.get_json()["due_at"])


def test_calendar_due_endpoint_gives_the_shipped_calendar_answers(api, world):
    # The URL carries "+07:00": the client must percent-encode the plus sign.
    assert _due(api, start="2026-02-13T16:00:00+07:00", working_days=1) == end_of_local_day("2026-02-23")
    assert _due(api, start="2025-04-25T14:00:00+07:00", working_days=1) == end_of_local_day("2025-04-26")
    assert _due(api, start="2025-04-29T07:00:00Z", working_days=1) == end_of_local_day("2025-05-05")
    assert _due(api, start="2026-03-05T18:30:00Z", working_days=1) == end_of_local_day("2026-03-09")
    assert _due(api, start="2026-02-15T20:00:00+07:00", hours=12) == local(2026, 2, 16, 8, 0)


def test_calendar_lists_the_exceptions_of_a_year(api, world):
    resp = api.get("/api/v1/calendar", "officer_a@test.vn", query_string={"year": 2026})
    assert resp.status_code == 200
    items = {item["date"]: item for item in resp.get_json()["items"]}
    for day in ("2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-09-02"):
        assert items[day]["kind"] == "holiday"
    assert all(day.startswith("2026-") for day in items)
    resp_2025 = api.get("/api/v1/calendar", "officer_a@test.vn", query_string={"year": 2025}).get_json()
    make_up = {
        "date": "2025-04-26",
        "kind": "workday",
        "name": "Ngày làm việc bù cho ngày 02/05",
        "source": "library",
    }
    assert make_up in resp_2025["items"]


def test_verify_task_due_at_is_what_calendar_due_answers(api, open_case):
    received = datetime.now(UTC) - timedelta(hours=5, minutes=7)
    case = open_case(received_at=received.isoformat())
    [task] = case["tasks"]
    expected = _due(api, start=received.isoformat(), hours=12)
    assert datetime.fromisoformat(task["due_at"]) == expected == received + timedelta(hours=12)


def test_draft_plan_due_at_is_what_calendar_due_answers(api, open_case, fire):
    case = fire(
        open_case(),
        "verify",
        "officer_a@test.vn",
        {"risk_level": "low", "serious_harm": False, "caregiver_is_abuser": False, "findings": "ok"},
    )
    [draft] = [t for t in case["tasks"] if t["kind"] == "draft_plan"]
    expected = _due(api, start=case["state_entered_at"], working_days=5)
    assert datetime.fromisoformat(draft["due_at"]) == expected
    assert expected.astimezone(VN).time().isoformat() == "23:59:59"
    assert draft["rule"] == "working_days: 5 from entered"
    assert "28.1" in draft["legal_basis"]


def test_admin_calendar_edit_changes_the_next_computed_deadline(api, world):
    start = {"start": "2026-03-06T09:00:00+07:00", "working_days": 1}
    assert _due(api, **start) == end_of_local_day("2026-03-09")
    resp = api.put("/api/v1/calendar/2026-03-09", "admin@test.vn", json={"kind": "holiday", "name": "Test"})
    assert resp.status_code == 200
    assert resp.get_json() == {"date": "2026-03-09", "kind": "holiday", "name": "Test", "source": "admin"}
    assert _due(api, **start) == end_of_local_day("2026-03-10")
    # A make-up Saturday pulls the deadline forward.
    assert (
        api.put(
            "/api/v1/calendar/2026-03-07", "admin@test.vn", json={"kind": "workday", "name": "Make-up"}
        ).status_code
        == 200
    )
    assert _due(api, **start) == end_of_local_day("2026-03-07")
    assert api.delete("/api/v1/calendar/2026-03-07", "admin@test.vn").status_code == 204
    assert api.delete("/api/v1/calendar/2026-03-09", "admin@test.vn").status_code == 204
    assert _due(api, **start) == end_of_local_day("2026-03-09")
    assert api.delete("/api/v1/calendar/2026-03-09", "admin@test.vn").status_code == 404


def test_admin_can_turn_a_shipped_holiday_into_a_workday(api, world):
    start = {"start": "2026-02-13T16:00:00+07:00", "working_days": 1}
    assert (
        api.put(
            "/api/v1/calendar/2026-02-16", "admin@test.vn", json={"kind": "workday", "name": "Tết moved"}
        ).status_code
        == 200
    )
    assert _due(api, **start) == end_of_local_day("2026-02-16")


def test_calendar_edit_reaches_the_deadline_of_a_new_task(api, open_case, fire):
    case = open_case()
    before = _due(api, start=datetime.now(UTC).isoformat(), working_days=5)
    day = before.astimezone(VN).date().isoformat()
    assert api.put(f"/api/v1/calendar/{day}", "admin@test.vn", json={"kind": "holiday"}).status_code == 200
    case = fire(
        case,
        "verify",
        "officer_a@test.vn",
        {"risk_level": "low", "serious_harm": False, "caregiver_is_abuser": False, "findings": "ok"},
    )
    [draft] = [t for t in case["tasks"] if t["kind"] == "draft_plan"]
    due = datetime.fromisoformat(draft["due_at"])
    assert due > before
    assert due == _due(api, start=case["state_entered_at"], working_days=5)


@pytest.mark.parametrize("who", ["chair_a", "supervisor_p", "hotline"])
def test_non_admin_may_not_edit_the_calendar(api, world, who):
    email = f"{who}@test.vn"
    assert api.put("/api/v1/calendar/2026-03-09", email, json={"kind": "holiday"}).status_code == 403
    assert api.delete("/api/v1/calendar/2026-02-16", email).status_code == 403
    assert _due(api, start="2026-03-06T09:00:00+07:00", working_days=1) == end_of_local_day("2026-03-09")
    assert _due(api, start="2026-02-13T16:00:00+07:00", working_days=1) == end_of_local_day("2026-02-23")


def test_a_calendar_edit_reaches_other_processes_within_their_cache_time(app, database_url, world):
    """Each process keeps the calendar CALENDAR_CACHE_SECONDS: an edit shows at once where it
    was made, and in another process (here a second app on the same database) after that time."""
    other = create_app(
        {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "CALENDAR_CACHE_SECONDS": 0.5}
    )
    start = local(2026, 3, 6, 9, 0)
    with other.app_context():
        assert calendar.due_at(start, working_days=1) == end_of_local_day("2026-03-09")
    calendar.set_day(date(2026, 3, 9), "holiday", "Test")
    assert calendar.due_at(start, working_days=1) == end_of_local_day("2026-03-10")
    with other.app_context():
        assert calendar.due_at(start, working_days=1) == end_of_local_day("2026-03-09")  # kept
        time.sleep(0.6)
        assert calendar.due_at(start, working_days=1) == end_of_local_day("2026-03-10")
        db.session.remove()
        db.engine.dispose()
