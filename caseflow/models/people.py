"""Users of CaseFlow and their API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from caseflow.extensions import db
from caseflow.models.orgs import Agency, OrgUnit
from caseflow.models.types import EncryptedText, UTCDateTime, utcnow

ROLES = ("admin", "officer", "chair", "agency_staff", "supervisor")
MIN_PASSWORD_LENGTH = 12


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    # Supervisors may take one digest a day instead of a mail per overdue task.
    daily_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Changing it logs out every session of the user (Flask-Login's alternative id).
    session_token: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The authenticator app's secret (services/two_factor.py), encrypted; None: no second factor.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText("users.totp_secret"))
    # The hashes of its unused one-time recovery codes, space-separated (services/two_factor.py).
    totp_recovery: Mapped[str | None] = mapped_column(Text)

    org_unit: Mapped[OrgUnit | None] = relationship()
    agency: Mapped[Agency | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def set_password(self, password: str) -> None:
        # Tests lower the hashing cost through config; production keeps werkzeug's default.
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)
        self.session_token = secrets.token_hex(16)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "role": self.role,
            "org_unit": self.org_unit.code if self.org_unit else None,
            "agency": self.agency.code if self.agency else None,
            "active": self.active,
            "locale": self.locale,
        }


class ApiToken(db.Model):
    """Bearer tokens: only a hash is stored, so a database leak gives no live token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
