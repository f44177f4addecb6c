"""API bearer tokens: issued for a correct password, looked up by hash."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from caseflow.extensions import db
from caseflow.models import ApiToken, User
from caseflow.models.types import utcnow
from caseflow.services import accounts
from caseflow.services.errors import Unauthorized


def issue_token(email: object, password: object, hours: int) -> tuple[str, datetime]:
    if not isinstance(email, str) or not isinstance(password, str):
        raise Unauthorized("Wrong email or password")
    # The sign-in page's check, lock-out included: the API must not be a side door for guessing.
    user = accounts.authenticate(email, password)
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(hours=hours)
    db.session.add(ApiToken(token_hash=ApiToken.hash(token), user=user, expires_at=expires))
    db.session.commit()
    return token, expires


def user_for_token(token: str) -> User | None:
    # Every API request runs this: the token and its user in one round trip.
    row = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(token)).options(joinedload(ApiToken.user))
    )
    if row is None or row.expires_at < utcnow() or not row.user.active:
        return None
    return row.user
