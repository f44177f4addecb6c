"""The working-day calendar as stored: the exceptions to the Monday-Friday week."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import extract, select

from caseflow.extensions import db
from caseflow.models import CalendarDay
from caseflow.models.calendar import DAY_KINDS
from caseflow.services.errors import Invalid, NotFound
from caseflow.workflow.clock import WorkingCalendar, compute_due


def load_calendar() -> WorkingCalendar:
    """The whole exception table: a few dozen rows a year, cheaper to read than to cache."""
    # Plain (day, kind) rows: building an ORM object per holiday cost more than the query.
    return WorkingCalendar.from_rows(db.session.execute(select(CalendarDay.day, CalendarDay.kind)))


def due_at(start: datetime, *, hours: int | None = None, working_days: int | None = None) -> datetime:
    return compute_due(start, load_calendar(), hours=hours, working_days=working_days)


def days_of_year(year: int) -> list[CalendarDay]:
    return list(
        db.session.scalars(
            select(CalendarDay).where(extract("year", CalendarDay.day) == year).order_by(CalendarDay.day)
        )
    )


def set_day(day: date, kind: str, name: str) -> CalendarDay:
    if kind not in DAY_KINDS:
        raise Invalid({"kind": f"must be one of: {', '.join(DAY_KINDS)}"})
    row = db.session.get(CalendarDay, day) or CalendarDay(day=day)
    row.kind, row.name = kind, (name or "")[:200]
    db.session.add(row)
    db.session.commit()
    return row


def delete_day(day: date) -> None:
    row = db.session.get(CalendarDay, day)
    if row is None:
        raise NotFound("No calendar exception on that date")
    db.session.delete(row)
    db.session.commit()
