"""The national holidays, Tết included, from the maintained `holidays` package, kept in the calendar.

The library knows every year's lunar holidays (Tết, the Hùng Kings' day), the observed days
when a holiday falls on a weekend, and the government's announced swaps (a day off paid back
by a make-up Saturday) as far as they have been published. A hand-kept list went stale every
year (Tết shipped for 2025-2026 only); this module writes the library's days for every year
from FIRST_YEAR to this year + CALENDAR_YEARS_AHEAD as `library` rows and refreshes them
(init-db, `flask caseflow refresh-calendar`, and the periodic scan when a new year comes
into range). Administrators' rows (`admin`: make-up Saturdays announced after the library's
release, one-off days off) are never overwritten or removed by a refresh.
"""

from __future__ import annotations

from datetime import date

import holidays
from flask import current_app, has_app_context
from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import CalendarDay
from caseflow.models.types import utcnow
from caseflow.services.calendar import forget_cached_calendar
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


def refresh_calendar(today: date | None = None) -> dict[str, int]:
    """Bring the `library` rows in line with the library for the seeded years; `admin` rows win.

    Returns counts: added, updated, removed (library rows the library no longer lists, such as
    a date corrected in a newer release), kept (days an administrator's row decides).
    """
    years = calendar_years(today)
    wanted = library_days(years)
    rows = {
        row.day: row
        for row in db.session.scalars(
            select(CalendarDay).where(
                CalendarDay.day >= date(years.start, 1, 1), CalendarDay.day <= date(years.stop - 1, 12, 31)
            )
        )
    }
    stats = {"added": 0, "updated": 0, "removed": 0, "kept": 0}
    for day, (kind, name) in wanted.items():
        row = rows.get(day)
        if row is None:
            db.session.add(CalendarDay(day=day, kind=kind, name=name[:200], source="library"))
            stats["added"] += 1
        elif row.source != "library":
            stats["kept"] += 1
        elif (row.kind, row.name) != (kind, name[:200]):
            row.kind, row.name = kind, name[:200]
            stats["updated"] += 1
    for day, row in rows.items():
        if row.source == "library" and day not in wanted:
            db.session.delete(row)
            stats["removed"] += 1
    db.session.commit()
    forget_cached_calendar()
    return stats


def seed_calendar() -> int:
    """Refresh the calendar (init-db, the demo); returns the number of days added."""
    return refresh_calendar()["added"]


def ensure_calendar_ahead(today: date | None = None) -> bool:
    """Refresh once the last seeded year has no library day yet (a new year came into range).
    One indexed probe per scan; True if it refreshed."""
    last = calendar_years(today).stop - 1
    present = db.session.scalar(
        select(CalendarDay.day)
        .where(CalendarDay.source == "library", CalendarDay.day >= date(last, 1, 1))
        .limit(1)
    )
    db.session.rollback()
    if present is not None:
        return False
    refresh_calendar(today)
    return True


def next_year_tet_status(today: date | None = None) -> dict:
    """For /healthz: does next year's calendar have Tết? Working-day deadlines near it depend on it."""
    today = today or utcnow().astimezone(LOCAL_TZ).date()
    year = today.year + 1
    expected = tet_day(year)
    row = db.session.get(CalendarDay, expected) if expected else None
    if row is not None and row.kind == "holiday":
        return {"status": "ok", "next_year": year, "tet": expected.isoformat()}
    return {
        "status": "warning",
        "next_year": year,
        "message": f"the calendar has no Tết for {year}: run `flask caseflow refresh-calendar` "
        "or add the days in the calendar page",
    }
