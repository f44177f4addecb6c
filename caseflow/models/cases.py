"""A child-protection case, the child's identity (kept apart) and the informant."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, event, text
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from caseflow import crypto
from caseflow.extensions import db
from caseflow.models.orgs import Agency, OrgUnit
from caseflow.models.types import EncryptedDate, EncryptedJSON, EncryptedText, UTCDateTime, utcnow

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
# The case columns the periodic reports read (services/reports.py), carried by ix_cases_received_id.
REPORT_COLUMNS = (
    "incident_commune_id",
    "residence_commune_id",
    "closed_at",
    "closure_outcome",
    "channel",
    "harm_setting",
    "perpetrator_relation",
    "special_group",
    "harm_types",
    "services",
)


class Case(db.Model):
    """The case record. It never holds the child's identity: that lives in `Child`, so
    lists, exports and mails built from cases cannot leak it by accident."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_incident_state", "incident_commune_id", "state"),
        Index("ix_cases_residence_state", "residence_commune_id", "state"),
        # The newest-first case list of a supervisor, read in index order (0011). Partial on
        # `id > 0`, which only the supervisors' list states (services/cases.py): a commune's list
        # cannot use it, and walking the whole register backwards for one commune's few cases
        # was 5 times slower than its own bitmap (0004).
        # It also carries what the reports count (0013), so that their grouped scans of a
        # period read this index alone, not every case's encrypted text (PostgreSQL's INCLUDE).
        Index(
            "ix_cases_received_id",
            "received_at",
            "id",
            postgresql_include=list(REPORT_COLUMNS),
            postgresql_where=text("id > 0"),
            sqlite_where=text("id > 0"),
        ),
        # The supervisors' monthly trends count the cases closed in each month from this index
        # alone, with the communes their reach is decided on (0016).
        Index(
            "ix_cases_closed",
            "closed_at",
            postgresql_include=["incident_commune_id", "residence_commune_id"],
            postgresql_where=text("closed_at IS NOT NULL"),
            sqlite_where=text("closed_at IS NOT NULL"),
        ),
        # An agency's reach (access.case_scope): the cases it reported, found without a scan (0016).
        Index(
            "ix_cases_reported_by_agency",
            "reported_by_agency_id",
            postgresql_where=text("reported_by_agency_id IS NOT NULL"),
            sqlite_where=text("reported_by_agency_id IS NOT NULL"),
        ),
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
    # Free text that names the child, the family and the neighbours: encrypted like the identity.
    summary: Mapped[str] = mapped_column(EncryptedText("cases.summary"), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A reopened case is a new report in law: its 12-hour clocks restart here.
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closure_reason: Mapped[str | None] = mapped_column(EncryptedText("cases.closure_reason"))
    # Set by `flask caseflow retention`: the identity and free text are gone, the statistics stay.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    serious_harm: Mapped[bool] = mapped_column(Boolean, default=False)
    caregiver_is_abuser: Mapped[bool] = mapped_column(Boolean, default=False)
    findings: Mapped[str | None] = mapped_column(EncryptedText("cases.findings"))
    plan: Mapped[dict | None] = mapped_column(EncryptedJSON("cases.plan"))
    criminal_referral: Mapped[bool] = mapped_column(Boolean, default=False)
    police_case_number: Mapped[str | None] = mapped_column(String(64))
    # Art. 32: the separation decision (Mẫu 07), its extensions and its end; None if never separated.
    # Encrypted like the other free text: it says where the child is sheltered and with whom.
    separation: Mapped[dict | None] = mapped_column(EncryptedJSON("cases.separation"))
    # Art. 25.3: the criminal proceedings running beside the protection workflow.
    proceedings: Mapped[dict | None] = mapped_column(JSON)
    # A handover waits for the receiving commune to accept it; meanwhile that commune sees the case.
    # No foreign key in the schema (SQLite would rebuild the table to add one); set only by the
    # handover effect from a unit it looked up.
    pending_handover_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # Earlier cases of the same child (the duplicate check at intake and on reopening).
    related_case_ids: Mapped[list | None] = mapped_column(JSON)
    # Figures for the reports (Circular 13/2021), codes of the workflow file's choice lists
    # (workflow/lists.py CASE_COLUMNS): plain columns, so the reports GROUP BY them.
    harm_setting: Mapped[str | None] = mapped_column(String(30))
    perpetrator_relation: Mapped[str | None] = mapped_column(String(30))
    special_group: Mapped[str | None] = mapped_column(String(40))
    closure_outcome: Mapped[str | None] = mapped_column(String(30))
    services: Mapped[list | None] = mapped_column(JSON)
    # The values of trigger fields declared `store: data` in the workflow file, by field name:
    # a province's new field needs no migration (caseflow/workflow/definition.py, FieldSpec).
    # Encrypted like the other free text: a field may name a person (an alternative carer).
    data: Mapped[dict | None] = mapped_column(EncryptedJSON("cases.data"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reported_by_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    incident_commune: Mapped[OrgUnit] = relationship(foreign_keys=[incident_commune_id])
    residence_commune: Mapped[OrgUnit] = relationship(foreign_keys=[residence_commune_id])
    pending_handover: Mapped[OrgUnit | None] = relationship(
        primaryjoin="foreign(Case.pending_handover_id) == OrgUnit.id", viewonly=True
    )
    reported_by_agency: Mapped[Agency | None] = relationship()
    child: Mapped[Child | None] = relationship(back_populates="case", uselist=False)
    informant: Mapped[Informant | None] = relationship(uselist=False)
    tasks: Mapped[list[Task]] = relationship(  # noqa: F821
        back_populates="case", order_by="Task.id"
    )
    # Its open overdue tasks, counted by the query of a case list (services/cases.py) instead of
    # loading every task of the page; None on a case read any other way.
    listed_overdue: Mapped[int | None] = query_expression()

    # UPDATE ... WHERE version = :old makes two concurrent changes collide: one wins.
    __mapper_args__ = {"version_id_col": version}


class Child(db.Model):
    """The protected identity (Law Art. 6.11, 21; Decree 56 Art. 33)."""

    __tablename__ = "children"
    # The statistics the reports group by beside the case they join on (0013): read from this
    # index alone, not from the rows of encrypted identity.
    __table_args__ = (
        Index("ix_children_figures", "case_id", "sex", "age_at_receipt", "ethnicity", "disability"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    # Encrypted at rest (caseflow.crypto); sex and the age stay plain for the statistics.
    full_name: Mapped[str] = mapped_column(EncryptedText("children.full_name"))
    date_of_birth: Mapped[date | None] = mapped_column(EncryptedDate("children.date_of_birth"))
    estimated_age: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str] = mapped_column(String(10), default="unknown")
    address: Mapped[str | None] = mapped_column(EncryptedText("children.address"))
    school: Mapped[str | None] = mapped_column(EncryptedText("children.school"))
    family: Mapped[str | None] = mapped_column(EncryptedText("children.family"))
    # HMAC of the normalized name and birth date (crypto.child_name_index): the duplicate check
    # finds the same child by equality without the name ever being readable in the database.
    name_index: Mapped[str | None] = mapped_column(String(64), index=True)
    # Not identity: kept plain for the reports (the date of birth may be encrypted, so the
    # figures group by the age in whole years at receipt, computed at intake).
    ethnicity: Mapped[str | None] = mapped_column(String(30))
    disability: Mapped[str | None] = mapped_column(String(30))
    age_at_receipt: Mapped[int | None] = mapped_column(Integer)

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
            "ethnicity": self.ethnicity,
            "disability": self.disability,
            "age_at_receipt": self.age_at_receipt,
        }


class Informant(db.Model):
    """Who reported. Without consent only the fact of a report is kept, not the identity."""

    __tablename__ = "informants"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str | None] = mapped_column(EncryptedText("informants.name"))
    phone: Mapped[str | None] = mapped_column(EncryptedText("informants.phone"))
    relation: Mapped[str | None] = mapped_column(EncryptedText("informants.relation"))


@event.listens_for(Child, "before_insert")
@event.listens_for(Child, "before_update")
def _index_name(mapper, connection, target: Child) -> None:  # noqa: ANN001
    target.name_index = crypto.child_name_index(target.full_name, target.date_of_birth)


from caseflow.models.tasks import Task  # noqa: E402
