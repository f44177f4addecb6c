"""How a moment and a time span read to a person: one Vietnam-time formatter and one duration
formatter, shared by the pages, the trail and the mails so that they can never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import gettext as _
from flask_babel import ngettext

from caseflow.workflow.clock import LOCAL_TZ, WorkingCalendar

DATE_TIME = "%d/%m/%Y %H:%M"
DATE = "%d/%m/%Y"
DAY_SECONDS = 24 * 3600


def as_moment(value: datetime | str | None) -> datetime | None:
    """A stored time as an aware datetime. The database and the trail keep UTC; a value without an
    offset is UTC too (never the server's zone, which is how times came out seven hours apart)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def local_time(value: datetime | str | None, fmt: str = DATE_TIME) -> str:
    """A moment in Asia/Ho_Chi_Minh, as every page, trail line and mail shows it."""
    moment = as_moment(value)
    return moment.astimezone(LOCAL_TZ).strftime(fmt) if moment else ""


def local_date(value: datetime | str | None) -> str:
    return local_time(value, DATE)


def clock_of(rule: str | None) -> str:
    """Which clock a task's deadline rule runs on: 'hours', 'working_days', or 'days' (a date the
    plan set)."""
    head = (rule or "").split(":", 1)[0].strip()
    return head if head in ("hours", "working_days") else "days"


def span_text(seconds: float) -> str:
    """A wall-clock span: minutes under an hour, hours (and minutes) under a day, then days."""
    seconds = abs(int(seconds))
    if seconds < 3600:
        minutes = max(seconds // 60, 1)
        return ngettext("%(num)s minute", "%(num)s minutes", minutes)
    if seconds < DAY_SECONDS:
        hours, minutes = divmod(seconds // 60, 60)
        if minutes == 0:
            return ngettext("%(num)s hour", "%(num)s hours", hours)
        return _("%(h)s h %(m)s min", h=hours, m=minutes)
    return ngettext("%(num)s day", "%(num)s days", seconds // DAY_SECONDS)


@dataclass(frozen=True)
class TimeLeft:
    text: str
    overdue: bool
    soon: bool

    def __getitem__(self, key: str) -> object:  # templates and older callers read it as a mapping
        return getattr(self, key)


def time_left(due_at: datetime, rule: str | None, now: datetime, calendar: WorkingCalendar) -> TimeLeft:
    """Time left before a deadline, or how late it is, on the deadline's own clock: under a day in
    hours and minutes; beyond, the 12-hour rules in days, working-day rules in working days, plan
    dates in calendar days."""
    overdue = due_at < now
    clock = clock_of(rule)
    seconds = (due_at - now).total_seconds()
    if clock == "hours" or abs(seconds) < DAY_SECONDS:
        amount = span_text(seconds)
        text = _("Overdue by %(t)s", t=amount) if overdue else _("%(t)s left", t=amount)
        return TimeLeft(text, overdue, not overdue and seconds < 3 * 3600)
    today, due_day = now.astimezone(LOCAL_TZ).date(), due_at.astimezone(LOCAL_TZ).date()
    if clock == "working_days":
        days = calendar.working_days_between(today, due_day)
        if overdue:
            n = max(-days, 1)
            text = ngettext("Overdue by %(num)s working day", "Overdue by %(num)s working days", n)
        else:
            text = ngettext("%(num)s working day left", "%(num)s working days left", days)
        return TimeLeft(text, overdue, not overdue and days <= 1)
    days = (due_day - today).days
    if overdue:
        text = ngettext("Overdue by %(num)s day", "Overdue by %(num)s days", max(-days, 1))
    else:
        text = ngettext("%(num)s day left", "%(num)s days left", days)
    return TimeLeft(text, overdue, not overdue and days <= 2)
