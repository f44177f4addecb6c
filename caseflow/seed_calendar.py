"""The national holidays CaseFlow ships with, loaded into the editable calendar table."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import yaml
from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import CalendarDay
from caseflow.services.calendar import forget_cached_calendar

HOLIDAYS_FILE = Path(__file__).parent / "data" / "holidays_vn.yaml"


def shipped_days() -> dict[date, tuple[str, str]]:
    raw = yaml.safe_load(HOLIDAYS_FILE.read_text(encoding="utf-8"))
    first, last = raw["years"]
    days: dict[date, tuple[str, str]] = {}
    for year in range(first, last + 1):
        for item in raw["fixed"]:
            day = date(year, item["month"], item["day"])
            days[day] = ("holiday", item["name"])
    for day, (_, name) in sorted(days.items()):
        if day.weekday() >= 5:  # a holiday on a weekend gives the next working day off
            compensation = day + timedelta(days=7 - day.weekday())
            while compensation in days:
                compensation += timedelta(days=1)
            days[compensation] = ("holiday", f"{name} (nghỉ bù)")
    for items in (raw.get("dated") or {}).values():
        for item in items:
            days[item["date"]] = (item["kind"], item["name"])
    return days


def seed_calendar() -> int:
    """Add the shipped days that are not in the table yet; an administrator's edits win."""
    existing = set(db.session.scalars(select(CalendarDay.day)))
    added = 0
    for day, (kind, name) in sorted(shipped_days().items()):
        if day not in existing:
            db.session.add(CalendarDay(day=day, kind=kind, name=name))
            added += 1
    db.session.commit()
    forget_cached_calendar()
    return added
