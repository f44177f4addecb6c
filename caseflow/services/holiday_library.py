"""The national holidays, Tết included, as the maintained `holidays` package gives them.

What the library says, with no table behind it: the calendar service asks it when an
administrator removes a day (the library's own day comes back), and `caseflow.seed_calendar`
writes it into the table. Here, under services, so that the service does not reach up to the
seeding module that itself clears the service's cache.
"""

from __future__ import annotations

from datetime import date

import holidays
from flask import current_app, has_app_context

from caseflow.models.types import utcnow
from caseflow.workflow.clock import LOCAL_TZ

FIRST_YEAR = 2017  # Decree 56/2017 came into force: no case has an older deadline
DEFAULT_YEARS_AHEAD = 2
TET_NAME = "Tết Nguyên Đán"  # the library's Vietnamese name of the first day of the lunar year
MAKE_UP_NAME = "Ngày làm việc bù"


def calendar_years(today: date | None = None) -> range:
    today = today or utcnow().astimezone(LOCAL_TZ).date()
    ahead = DEFAULT_YEARS_AHEAD
    if has_app_context():
        ahead = int(current_app.config.get("CALENDAR_YEARS_AHEAD", DEFAULT_YEARS_AHEAD))
    return range(FIRST_YEAR, today.year + ahead + 1)


def library_days(years: range | list[int]) -> dict[date, tuple[str, str]]:
    """The library's exceptions to the Monday-Friday week for these years: (kind, name)."""
    found = holidays.country_holidays("VN", years=list(years), language="vi")
    wanted = set(years)
    days: dict[date, tuple[str, str]] = {day: ("holiday", name) for day, name in found.items()}
    for day in getattr(found, "weekend_workdays", ()):  # announced make-up Saturdays
        if day.year in wanted:
            # The day off it pays for names it: "Ngày nghỉ (thay cho ngày 26/04/2025)".
            swapped = [d for d, name in found.items() if day.strftime("%d/%m/%Y") in name]
            name = f"{MAKE_UP_NAME} cho ngày {swapped[0]:%d/%m}" if swapped else MAKE_UP_NAME
            days[day] = ("workday", name)
    return dict(sorted(days.items()))


def shipped_days() -> dict[date, tuple[str, str]]:
    """What a fresh installation starts with (the library's days over the seeded years)."""
    return library_days(calendar_years())


def tet_day(year: int) -> date | None:
    """The first day of the lunar new year, as the library computes it."""
    for day, name in holidays.country_holidays("VN", years=year, language="vi").items():
        if name == TET_NAME:
            return day
    return None
