"""Exceptions to the Monday-Friday week: public holidays and make-up working days."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from caseflow.extensions import db

DAY_KINDS = ("holiday", "workday")
# library: from the `holidays` package, replaced on each refresh; admin: an administrator's
# edit (a make-up Saturday, a one-off day), never overwritten by a refresh.
DAY_SOURCES = ("library", "admin")


class CalendarDay(db.Model):
    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(10), default="admin", server_default="admin")

    def to_json(self) -> dict:
        return {"date": self.day.isoformat(), "kind": self.kind, "name": self.name, "source": self.source}
