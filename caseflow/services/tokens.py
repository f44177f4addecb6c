"""API bearer tokens: issued for a correct password, looked up by hash."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select

from caseflow.extensions import db
from caseflow.models import ApiToken, User
from caseflow.models.types import utcnow
from caseflow.services import access, accounts
from caseflow.services.errors import Unauthorized


def issue_token(
    email: object, password: object, hours: int, address: str | None = None, code: object = None
) -> tuple[str, datetime]:
    if not isinstance(email, str) or not isinstance(password, str):
        raise Unauthorized("Wrong email or password")
    # The sign-in page's check, delays included: the API must not be a side door for guessing.
    user = accounts.authenticate(email, password, address, code)
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(hours=hours)
    db.session.add(ApiToken(token_hash=ApiToken.hash(token), user=user, expires_at=expires))
    db.session.commit()
    return token, expires


def user_for_token(token: str) -> User | None:
    """The active user a live token belongs to, or None.

    Every API request runs this: one query for the user alone, with the token's checks in
    its WHERE clause (loading the token row too, as a joined eager load, cost a tenth of a
    transition's CPU), and whether a unit was merged into the user's commune: without one, the
    request needs no look-up of the commune's predecessors (`access.commune_reach`)."""
    row = db.session.execute(_USER_FOR_TOKEN, {"token_hash": ApiToken.hash(token), "now": utcnow()}).first()
    if row is None:
        return None
    user, merged = row
    if not merged:
        access.reach_has_no_mergers(user)
    return user


# Built once: constructing the statement anew cost a quarter of the look-up's CPU.
_USER_FOR_TOKEN = (
    select(User, access.merged_into(User.org_unit_id))
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.expires_at > bindparam("now", type_=ApiToken.expires_at.type),
        User.active.is_(True),
    )
)
