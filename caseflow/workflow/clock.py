"""The two legal clocks: wall-clock hours and Vietnamese working days.

Every task's `due_at` comes from `compute_due`, and so does the API's
`/calendar/due`, so what a user asks and what the engine sets cannot differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
END_OF_DAY = time(23, 59, 59)


class WorkingCalendar:
    """Saturday and Sunday off, except the exceptions: holidays off, make-up days on."""

    def __init__(self, exceptions: Mapping[date, str] | None = None) -> None:
        self.exceptions = dict(exceptions or {})

    @classmethod
    def from_rows(cls, rows: Iterable) -> WorkingCalendar:
        return cls({row.day: row.kind for row in rows})

    def is_working_day(self, day: date) -> bool:
        kind = self.exceptions.get(day)
        if kind == "holiday":
            return False
        if kind == "workday":
            return True
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (the start day itself is not counted)."""
        day, counted = start, 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (negative if end is earlier)."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for i in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(i)))


def compute_due(
    start: datetime,
    calendar: WorkingCalendar,
    *,
    hours: int | None = None,
    working_days: int | None = None,
) -> datetime:
    """The deadline a rule gives from `start`, in UTC.

    N hours are wall-clock hours. N working days end at 23:59:59 Asia/Ho_Chi_Minh
    on the N-th working day after the start's local date.
    """
    if start.tzinfo is None:
        raise ValueError("start must carry a time zone")
    if (hours is None) == (working_days is None):
        raise ValueError("give exactly one of hours or working_days")
    if hours is not None:
        return (start + timedelta(hours=hours)).astimezone(UTC)
    local_day = start.astimezone(LOCAL_TZ).date()
    due_day = calendar.add_working_days(local_day, working_days)
    return datetime.combine(due_day, END_OF_DAY, tzinfo=LOCAL_TZ).astimezone(UTC)


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(LOCAL_TZ)
