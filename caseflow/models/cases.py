"""A child-protection case, the child's identity (kept apart) and the informant."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseflow.extensions import db
from caseflow.models.orgs import Agency, OrgUnit
from caseflow.models.types import UTCDateTime, utcnow

CHANNELS = ("hotline_111", "police", "school", "health", "commune", "community", "self", "other")
HARM_TYPES = (
    "violence",
    "sexual_abuse",
    "exploitation",
    "trafficking",
    "abandonment",
    "neglect",
    "other",
)
RISK_LEVELS = ("low", "medium", "high")
SEXES = ("female", "male", "unknown")


class Case(db.Model):
    """The case record. It never holds the child's identity: that lives in `Child`, so
    lists, exports and mails built from cases cannot leak it by accident."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_incident_state", "incident_commune_id", "state"),
        Index("ix_cases_residence_state", "residence_commune_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    workflow_version: Mapped[str] = mapped_column(String(40))
    risk_level: Mapped[str | None] = mapped_column(String(10))
    harm_types: Mapped[list] = mapped_column(JSON, default=list)
    incident_commune_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    residence_commune_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    channel: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A reopened case is a new report in law: its 12-hour clocks restart here.
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closure_reason: Mapped[str | None] = mapped_column(Text)
    serious_harm: Mapped[bool] = mapped_column(Boolean, default=False)
    caregiver_is_abuser: Mapped[bool] = mapped_column(Boolean, default=False)
    findings: Mapped[str | None] = mapped_column(Text)
    plan: Mapped[dict | None] = mapped_column(JSON)
    criminal_referral: Mapped[bool] = mapped_column(Boolean, default=False)
    police_case_number: Mapped[str | None] = mapped_column(String(64))
    # The values of trigger fields declared `store: data` in the workflow file, by field name:
    # a province's new field needs no migration (caseflow/workflow/definition.py, FieldSpec).
    data: Mapped[dict | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reported_by_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    incident_commune: Mapped[OrgUnit] = relationship(foreign_keys=[incident_commune_id])
    residence_commune: Mapped[OrgUnit] = relationship(foreign_keys=[residence_commune_id])
    reported_by_agency: Mapped[Agency | None] = relationship()
    child: Mapped[Child | None] = relationship(back_populates="case", uselist=False)
    informant: Mapped[Informant | None] = relationship(uselist=False)
    tasks: Mapped[list[Task]] = relationship(  # noqa: F821
        back_populates="case", order_by="Task.id"
    )

    # UPDATE ... WHERE version = :old makes two concurrent changes collide: one wins.
    __mapper_args__ = {"version_id_col": version}


class Child(db.Model):
    """The protected identity (Law Art. 6.11, 21; Decree 56 Art. 33)."""

    __tablename__ = "children"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    estimated_age: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str] = mapped_column(String(10), default="unknown")
    address: Mapped[str | None] = mapped_column(Text)
    school: Mapped[str | None] = mapped_column(String(200))
    family: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="child")

    def to_json(self) -> dict:
        return {
            "full_name": self.full_name,
            "date_of_birth": self.date_of_birth.isoformat() if self.date_of_birth else None,
            "estimated_age": self.estimated_age,
            "sex": self.sex,
            "address": self.address,
            "school": self.school,
            "family": self.family,
        }


class Informant(db.Model):
    """Who reported. Without consent only the fact of a report is kept, not the identity."""

    __tablename__ = "informants"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    relation: Mapped[str | None] = mapped_column(String(100))


from caseflow.models.tasks import Task  # noqa: E402
