"""Times and spans as people read them: one Vietnam-time formatter, and time left on the
deadline's own clock (hours under a day, then days; working days for working-day rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import session

from caseflow.display import local_time, time_left
from caseflow.workflow.clock import WorkingCalendar

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Vietnam
HOURS, WORKING, PLAN = "hours: 12 from received_at", "working_days: 5 from entered", "date set in the plan"
CAL = WorkingCalendar()


@pytest.fixture
def vi(app):
    with app.test_request_context():
        yield


@pytest.fixture
def en(app):
    with app.test_request_context():
        session["locale"] = "en"
        yield


def test_a_moment_reads_the_same_whether_stored_aware_naive_or_as_trail_text():
    aware = datetime(2026, 11, 16, 6, 44, tzinfo=UTC)
    assert local_time(aware) == "16/11/2026 13:44"
    assert local_time(aware.replace(tzinfo=None)) == "16/11/2026 13:44"  # stored UTC, never server time
    assert local_time(aware.isoformat()) == "16/11/2026 13:44"
    assert local_time("2026-11-16T13:44:00+07:00") == "16/11/2026 13:44"
    assert local_time(None) == "" and local_time("not a time") == ""


@pytest.mark.parametrize(
    ("due", "rule", "text"),
    [
        (NOW + timedelta(minutes=30), HOURS, "Còn 30 phút"),
        (NOW + timedelta(hours=5, minutes=30), HOURS, "Còn 5 giờ 30 phút"),
        (NOW + timedelta(hours=11), HOURS, "Còn 11 giờ"),
        (NOW - timedelta(hours=8), HOURS, "Quá hạn 8 giờ"),
        (NOW - timedelta(hours=709), HOURS, "Quá hạn 29 ngày"),  # never "709 giờ 0 phút"
        (NOW + timedelta(days=7), WORKING, "Còn 5 ngày làm việc"),  # Wed -> next Wed: 5 working days
        (NOW - timedelta(days=7), WORKING, "Quá hạn 5 ngày làm việc"),
        (NOW - timedelta(hours=3), WORKING, "Quá hạn 3 giờ"),  # under a day: hours on any clock
        (NOW + timedelta(days=10), PLAN, "Còn 10 ngày"),
        (NOW - timedelta(days=2), PLAN, "Quá hạn 2 ngày"),
    ],
)
def test_time_left_speaks_in_the_deadlines_clock(vi, due, rule, text):
    left = time_left(due, rule, NOW, CAL)
    assert left.text == text
    assert left.overdue == (due < NOW)


def test_english_counts_one_and_many(en):
    assert time_left(NOW + timedelta(days=1, hours=1), HOURS, NOW, CAL).text == "1 day left"
    assert time_left(NOW - timedelta(hours=1), HOURS, NOW, CAL).text == "Overdue by 1 hour"
    assert time_left(NOW + timedelta(days=1, hours=15), WORKING, NOW, CAL).text == "2 working days left"


def test_a_deadline_within_three_hours_is_marked_soon(vi):
    assert time_left(NOW + timedelta(hours=2), HOURS, NOW, CAL).soon
    assert not time_left(NOW + timedelta(hours=4), HOURS, NOW, CAL).soon
