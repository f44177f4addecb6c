"""Work owed by an agency on a case, with the legal deadline and the rule that set it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseflow.extensions import db
from caseflow.models.orgs import Agency
from caseflow.models.types import EncryptedText, UTCDateTime, utcnow

TASK_STATUSES = ("open", "done", "cancelled")
# A task that went overdue: not cancelled, and undone at its deadline (services/supervision.py
# states the same condition, which is what lets PostgreSQL read the partial index).
WENT_OVERDUE = "status <> 'cancelled' AND (completed_at IS NULL OR completed_at > due_at)"


def _starts_at_deadline(context) -> datetime | None:  # noqa: ANN001 - SQLAlchemy's default context
    return context.get_current_parameters().get("due_at")


class Task(db.Model):
    __tablename__ = "tasks"
    __table_args__ = (
        # The overdue scan reads only open tasks that are due: its cost follows the overdue work.
        Index("ix_tasks_status_due", "status", "due_at"),
        Index("ix_tasks_agency_status", "agency_id", "status"),
        # The overdue scan's two reads, on open tasks only, each answered from the index alone:
        # the ladder (one range: tasks whose next rung is due) and the warning window.
        Index(
            "ix_tasks_next_escalation",
            "next_escalation_at",
            "id",
            postgresql_where=text("status = 'open' AND next_escalation_at IS NOT NULL"),
            sqlite_where=text("status = 'open' AND next_escalation_at IS NOT NULL"),
        ),
        Index(
            "ix_tasks_warning",
            "due_at",
            "created_at",
            "id",
            postgresql_where=text("status = 'open' AND escalation_level = 0 AND warned_at IS NULL"),
            sqlite_where=text("status = 'open' AND escalation_level = 0 AND warned_at IS NULL"),
        ),
        # Overdue counts and the overdue filter: only open tasks, with what they are joined on.
        Index(
            "ix_tasks_open_due",
            "due_at",
            "case_id",
            "agency_id",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        # The overdue dashboard: open tasks counted by agency and by their case's communes from
        # this index alone, without joining the cases (200,000 of them on a province's register).
        Index(
            "ix_tasks_open_due_communes",
            "due_at",
            "agency_id",
            "residence_commune_id",
            "incident_commune_id",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        # The reports' timeliness of verify, emergency and plan tasks, read from this index alone:
        # the tasks of the cases received in the period, by their copy of the receipt (0017).
        Index(
            "ix_tasks_figures",
            "case_received_at",
            "kind",
            "status",
            "due_at",
            "completed_at",
            "created_at",
            postgresql_include=["incident_commune_id", "residence_commune_id"],
        ),
        # The overdue case list: open tasks in the list's order (their case's receipt, newest
        # first), their deadline beside it, so the first page's cases are found by walking open
        # tasks from the newest until enough are overdue, not every case in reach.
        Index(
            "ix_tasks_open_received",
            "case_received_at",
            "case_id",
            "due_at",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        # The supervisors' monthly trends over the whole register: the tasks that went past their
        # deadline undone, counted by month of the deadline from this index alone (0016).
        Index(
            "ix_tasks_went_overdue",
            "due_at",
            postgresql_where=text(WENT_OVERDUE),
            sqlite_where=text(WENT_OVERDUE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    template: Mapped[str] = mapped_column(String(60))
    # The free text of a task (the measure, its outcome, the agency's note) names the child and the
    # family: encrypted at rest like the identity.
    description: Mapped[str | None] = mapped_column(EncryptedText("tasks.description"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    # Copies of the case's two communes (the jurisdiction a task is seen and counted in), set when
    # the task is made and moved with the case at a handover (services/transition.py).
    incident_commune_id: Mapped[int | None] = mapped_column(Integer)
    residence_commune_id: Mapped[int | None] = mapped_column(Integer)
    # A copy of the case's received_at (the case list's sort key), set when the task is made:
    # receipt is fixed at intake (no field, correction or merger changes it; a reopening keeps it).
    case_received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10), default="open")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rule: Mapped[str] = mapped_column(String(120))
    legal_basis: Mapped[str] = mapped_column(String(200))
    workflow_version: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(EncryptedText("tasks.outcome"))
    note: Mapped[str | None] = mapped_column(EncryptedText("tasks.note"))
    # Highest rung of the ladder already notified (0: none). On the hours clock rung 1 is the
    # breach and rung k the (k-1)-th repeat; on working days rung k is the k-th level.
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    # When the next rung is due (None: the ladder is done). A new task starts at its deadline,
    # whichever path inserts it; the scan sets the exact moment of each later rung.
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=_starts_at_deadline)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)

    case: Mapped["Case"] = relationship(back_populates="tasks")  # noqa: F821, UP037
    agency: Mapped[Agency] = relationship()

    __mapper_args__ = {"version_id_col": row_version}

    def is_overdue(self, now: datetime | None = None) -> bool:
        return self.status == "open" and self.due_at < (now or utcnow())
