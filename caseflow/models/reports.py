"""What the reporting duties leave behind: the periodic reports each unit owes, and ad-hoc reports."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseflow.extensions import db
from caseflow.models.orgs import OrgUnit
from caseflow.models.types import UTCDateTime, utcnow


class ReportObligation(db.Model):
    """A report a unit owes for a year (from the workflow file's `reports.obligations`), a
    deadline like a task's: warned before, escalated when late, and once submitted the figures
    as they stood then, frozen (later corrections to cases do not change what was reported)."""

    __tablename__ = "report_obligations"
    __table_args__ = (
        UniqueConstraint("org_unit_id", "code", "year", name="uq_report_obligations_unit_code_year"),
        # The overdue scan reads only unsubmitted obligations that have come due.
        Index("ix_report_obligations_due", "submitted_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    figures: Mapped[dict | None] = mapped_column(JSON)
    # As on tasks: the highest ladder level already told (0: none), and when the warning went.
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    org_unit: Mapped[OrgUnit] = relationship()

    def status(self, now: datetime) -> str:
        if self.submitted_at is not None:
            return "submitted"
        return "overdue" if now > self.due_at else "due"


class AdhocReport(db.Model):
    """The ad-hoc report the provincial plan asks for when a serious case is verified: which case,
    where, why it is serious. It names the case by reference only, never the child."""

    __tablename__ = "adhoc_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    harm_types: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    commune: Mapped[OrgUnit] = relationship(foreign_keys=[commune_id])
