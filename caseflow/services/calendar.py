"""The working-day calendar as stored: the exceptions to the Monday-Friday week."""

from __future__ import annotations

import time
from datetime import date, datetime

from flask import current_app
from sqlalchemy import extract, select

from caseflow.extensions import db
from caseflow.models import CalendarDay
from caseflow.models.calendar import DAY_KINDS
from caseflow.services.errors import Invalid, NotFound, Why
from caseflow.services.holiday_library import calendar_years, library_days
from caseflow.workflow.clock import WorkingCalendar, compute_due

# Every transition that sets a working-day deadline needs the table, and reading it cost a
# query and a few hundred rows per transition: each app keeps it CALENDAR_CACHE_SECONDS
# (config.py). An edit made in this process is seen at once (`forget_cached_calendar`);
# other processes see it within that time, which holidays declared weeks ahead can afford.
_CACHE_KEY = "caseflow_calendar"


def load_calendar() -> WorkingCalendar:
    """The whole exception table, as this app last read it."""
    cached = current_app.extensions.get(_CACHE_KEY)
    now = time.monotonic()
    if cached is not None and now - cached[0] < current_app.config["CALENDAR_CACHE_SECONDS"]:
        return cached[1]
    # Plain (day, kind) rows: building an ORM object per holiday cost more than the query.
    calendar = WorkingCalendar.from_rows(db.session.execute(select(CalendarDay.day, CalendarDay.kind)))
    current_app.extensions[_CACHE_KEY] = (now, calendar)
    return calendar


def forget_cached_calendar() -> None:
    """After an edit of the table: the next deadline reads it again."""
    current_app.extensions.pop(_CACHE_KEY, None)


def due_at(start: datetime, *, hours: int | None = None, working_days: int | None = None) -> datetime:
    return compute_due(start, load_calendar(), hours=hours, working_days=working_days)


# An administrator's "this day follows the weekly rule" over a library holiday: kept as an admin
# row so that the next refresh does not bring the library's day back; never listed.
WEEKLY = "weekly"


def days_of_year(year: int) -> list[CalendarDay]:
    return list(
        db.session.scalars(
            select(CalendarDay)
            .where(extract("year", CalendarDay.day) == year, CalendarDay.kind != WEEKLY)
            .order_by(CalendarDay.day)
        )
    )


def set_day(day: date, kind: str, name: str) -> CalendarDay:
    """An administrator's edit: it wins over the holiday library and survives every refresh."""
    if kind not in DAY_KINDS:
        raise Invalid({"kind": Why("not_choice", choices=", ".join(DAY_KINDS))})
    row = db.session.get(CalendarDay, day) or CalendarDay(day=day)
    row.kind, row.name, row.source = kind, (name or "")[:200], "admin"
    db.session.add(row)
    db.session.commit()
    forget_cached_calendar()
    return row


def delete_day(day: date) -> None:
    """Remove an exception. An administrator's own day goes, and the library's day (if the library
    has one) comes back; a library day becomes an admin row saying the weekly rule applies, so
    that no refresh brings it back."""
    row = db.session.get(CalendarDay, day)
    if row is None or row.kind == WEEKLY:
        raise NotFound("No calendar exception on that date")
    if row.source == "library":
        row.kind, row.name, row.source = WEEKLY, "", "admin"
    else:
        # Within the seeded years the library's day returns at once, as a refresh would bring it.
        library = library_days([day.year]).get(day) if day.year in calendar_years() else None
        if library is None:
            db.session.delete(row)
        else:
            row.kind, row.name, row.source = library[0], library[1][:200], "library"
    db.session.commit()
    forget_cached_calendar()
