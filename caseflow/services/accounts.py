"""Signing in and managing accounts: password checks with lock-out, changes that end sessions."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from caseflow.extensions import db
from caseflow.models import ApiToken, User
from caseflow.models.people import MIN_PASSWORD_LENGTH
from caseflow.models.types import utcnow
from caseflow.services.errors import Invalid, NotFound, Unauthorized, Why

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15


class Locked(Unauthorized):
    """Too many wrong passwords: the account refuses sign-in for a while, even with the right one."""

    code = "locked"


def authenticate(email: str, password: str) -> User:
    """The active user with that email and password, counting failures toward a lock-out.

    The same message for an unknown email and a wrong password, so the form does
    not tell an attacker which accounts exist.
    """
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    now = utcnow()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        raise Locked("Too many failed sign-ins; try again later")
    if user is None or not user.active or not user.check_password(password or ""):
        if user is not None:
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                user.failed_logins = 0
            db.session.commit()
        raise Unauthorized("Wrong email or password")
    if user.failed_logins or user.locked_until:
        user.failed_logins, user.locked_until = 0, None
        db.session.commit()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Setting a password rotates the session token, so every other session of the user ends."""
    if not user.check_password(current or ""):
        raise Invalid({"current_password": Why("wrong_password")})
    if len(new or "") < MIN_PASSWORD_LENGTH:
        raise Invalid({"new_password": Why("password_short", min=MIN_PASSWORD_LENGTH)})
    user.set_password(new)
    revoke_api_tokens(user)
    db.session.commit()


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user")
    return user


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)))


def set_active(user_id: int, active: bool) -> User:
    """Deactivating also ends the user's open sessions at once."""
    user = get_user(user_id)
    user.active = active
    if not active:
        user.session_token = secrets.token_hex(16)
    db.session.commit()
    return user


def new_password() -> str:
    """16 random URL-safe characters: above the minimum length, easy to read out."""
    return secrets.token_urlsafe(12)


def reset_password(user_id: int) -> str:
    """A new random password for the administrator to hand over; the old sessions end."""
    user = get_user(user_id)
    password = new_password()
    user.set_password(password)
    user.failed_logins, user.locked_until = 0, None
    revoke_api_tokens(user)
    db.session.commit()
    return password


def revoke_api_tokens(user: User) -> None:
    """A new password ends every API token too: a leaked token must not outlive the password."""
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


def set_locale(user: User, locale: str) -> None:
    user.locale = locale
    db.session.commit()
