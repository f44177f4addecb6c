"""The append-only audit trail of a case: transitions, task changes, notes and reads."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseflow.extensions import db
from caseflow.models.people import User
from caseflow.models.types import EncryptedJSON, UTCDateTime, utcnow

EVENT_KINDS = (
    "created",
    "transition",
    "task_created",
    "task_completed",
    "task_cancelled",
    "task_rerouted",
    "note",
    "read",
    "notification",
    "escalation",
    "email_action",
    "form_recorded",
    "document_downloaded",
    "attachment_added",
    "attachment_downloaded",
    "export",
    "access_log",
    "correction",
    "disclosure",
    "anonymised",
)
# How an agency without an account acted: the event's `actor_label` holds its code and its
# data `via` says how, so the reader's language, not the writer's, words it on the page.
VIA_EMAIL_LINK = "email_link"
# Old rows only, written before the actor was stored as a code (they stay as hashed): the label
# was the sentence "<agency name> (<code>) qua liên kết email". Never written any more.
_OLD_LINK_LABEL = re.compile(r"^.* \((?P<code>[^()]*)\) qua liên kết email$")


class CaseEvent(db.Model):
    __tablename__ = "case_events"
    __table_args__ = (
        Index("ix_case_events_case", "case_id", "id"),
        # The chain's order: one event per position, so two writers cannot fork a case's trail.
        Index("uq_case_events_case_seq", "case_id", "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # "system", or who acted without an account (an agency through an emailed link).
    actor_label: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    # Notes, findings and reasons name people: the data is encrypted at rest.
    data: Mapped[dict] = mapped_column(EncryptedJSON("case_events.data"), default=dict)
    # The tamper-evident chain (services/audit.py): position in the case's trail, the previous
    # event's hash and this one's, sha256 over the canonical JSON of the event and prev_hash.
    seq: Mapped[int | None] = mapped_column(Integer)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship()

    def link_agency(self) -> str | None:
        """The code of the agency that acted through an emailed link, or None."""
        if (self.data or {}).get("via") == VIA_EMAIL_LINK:
            return self.actor_label
        old = _OLD_LINK_LABEL.match(self.actor_label or "")
        return old["code"] if old else None

    def to_json(self) -> dict:
        agency = self.link_agency()
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor.email if self.actor else (self.actor_label or "system"),
            "actor_agency": agency,
            "via": VIA_EMAIL_LINK if agency else None,
            "kind": self.kind,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "data": self.data or {},
        }


@event.listens_for(CaseEvent, "before_update")
def _refuse_update(mapper, connection, target) -> None:  # noqa: ANN001
    raise RuntimeError("the audit trail is append-only")


@event.listens_for(CaseEvent, "before_delete")
def _refuse_delete(mapper, connection, target) -> None:  # noqa: ANN001
    raise RuntimeError("the audit trail is append-only")
