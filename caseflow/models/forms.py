"""The dossier of a case: each annex form as numbered revisions, and the files attached to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseflow.extensions import db
from caseflow.models.people import User
from caseflow.models.types import EncryptedJSON, UTCDateTime, utcnow

ATTACHMENT_KINDS = ("evidence", "signed_form", "other")


class FormRecord(db.Model):
    """One revision of one form of a case. Revisions are never changed: an edit adds the next
    one, and (case, code, revision) is unique, so of two edits of the same revision one wins."""

    __tablename__ = "form_records"
    __table_args__ = (UniqueConstraint("case_id", "code", "revision", name="uq_form_records_revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    code: Mapped[str] = mapped_column(String(40))
    revision: Mapped[int] = mapped_column(Integer)
    # The values of the fields that are not identity; the form's identity fields (the child,
    # the family, the informant) are kept apart in `identity`, shown only to roles that may see
    # identity. Both are encrypted at rest: free text names people.
    data: Mapped[dict] = mapped_column(EncryptedJSON("form_records.data"), default=dict)
    identity: Mapped[dict] = mapped_column(EncryptedJSON("form_records.identity"), default=dict)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The trigger that recorded it ("verify"), or "intake"; None for an edit of the form.
    recorded_with: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)

    recorded_by: Mapped[User | None] = relationship()


class Attachment(db.Model):
    """A file kept for a case (evidence, a signed and stamped scan of a form), stored outside
    the web root under a name of our own; the uploader's file name is not kept (it may name
    the child)."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    form_code: Mapped[str | None] = mapped_column(String(40))  # the form a signed scan signs
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(100), unique=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    uploaded_by: Mapped[User | None] = relationship()
