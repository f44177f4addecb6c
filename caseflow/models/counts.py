"""Open cases per pair of communes, kept in step with every change that opens, closes or moves a case."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from caseflow.extensions import db


class OpenCaseCount(db.Model):
    """How many open cases happened in one commune and have the child living in another (or the
    same). A dashboard sums a few hundred of these rows instead of counting 200,000 cases.

    Changed only by `services.counts.record_open_change`, in the transaction that changes the case,
    with `SET open_cases = open_cases + delta` (never read, add and write back)."""

    __tablename__ = "open_case_counts"

    incident_commune_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
    residence_commune_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
    open_cases: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
