"""Ids of emailed action links already used: the database, not the link, makes them single-use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from caseflow.extensions import db
from caseflow.models.types import UTCDateTime, utcnow


class UsedActionToken(db.Model):
    """A primary key on the token id: two clicks racing on the same link, one insert wins."""

    __tablename__ = "used_action_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
