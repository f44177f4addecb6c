"""The national holidays, Tết included, from the maintained `holidays` package, kept in the calendar.

The library (read in `caseflow/services/holiday_library.py`) knows every year's lunar holidays (Tết, the Hùng Kings' day), the observed days
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

from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import CalendarDay
from caseflow.models.types import utcnow
from caseflow.services.calendar import forget_cached_calendar
from caseflow.services.holiday_library import calendar_years, library_days, shipped_days, tet_day
from caseflow.workflow.clock import LOCAL_TZ

# The library's part lives in services/holiday_library.py; its names stay importable from here.
__all__ = [
    "calendar_years",
    "ensure_calendar_ahead",
    "library_days",
    "next_year_tet_status",
    "refresh_calendar",
    "seed_calendar",
    "shipped_days",
    "tet_day",
]


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
