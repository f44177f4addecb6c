"""Signing in and managing accounts: password checks slowed per address, changes that end sessions."""

from __future__ import annotations

import secrets
from typing import NamedTuple

from flask import current_app, has_app_context
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from caseflow.extensions import db
from caseflow.models import Agency, ApiToken, OrgUnit, User
from caseflow.services import passwords, throttle, two_factor
from caseflow.services.errors import Invalid, NotFound, TooManyAttempts, Unauthorized, Why


class Locked(Unauthorized):
    """Kept for callers that catch it: sign-in no longer freezes an account (services/throttle.py)."""

    code = "locked"


_DUMMY_HASH: dict[str, str] = {}


def _dummy_check(password: str) -> None:
    """Spend the time a real password check takes, so an unknown email answers as slowly as a
    known one (before: 5 ms against 109 ms told which accounts exist)."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
    if method not in _DUMMY_HASH:
        _DUMMY_HASH[method] = generate_password_hash(secrets.token_urlsafe(16), method=method)
    check_password_hash(_DUMMY_HASH[method], password)


def authenticate(email: str, password: str, address: str | None = None, code: object = None) -> User:
    """The active user with that email and password.

    The same message for an unknown email and a wrong password, in the same time, so the form
    does not tell an attacker which accounts exist. Failures slow down this (account, address)
    pair only (`throttle`): a stranger guessing elsewhere cannot keep the owner out. A user with
    an authenticator app must give its code (or one of its recovery codes) too; a wrong code is
    the same failure, so the answer never tells that the password was right.
    """
    email = (email or "").strip().lower()
    wait = throttle.wait_seconds(email, address)
    if wait:
        raise TooManyAttempts("Too many failed sign-ins from this address; wait before trying again", wait)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        _dummy_check(password or "")
        ok = False
    else:
        ok = user.check_password(password or "") and user.active
        if ok and user.totp_secret:
            ok = two_factor.second_factor_ok(user, code)
    if not ok:
        throttle.failed(email, address)
        raise Unauthorized("Wrong email or password")
    throttle.succeeded(email, address)
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Setting a password rotates the session token, so every other session of the user ends."""
    if not user.check_password(current or ""):
        raise Invalid({"current_password": Why("wrong_password")})
    weak = passwords.problem(new, user_inputs=(user.email, user.name))
    if weak:
        raise Invalid({"new_password": weak})
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


class UserPage(NamedTuple):
    items: list[User]
    total: int


def find_users(search: str | None, unit: OrgUnit | None, page: int, per_page: int) -> UserPage:
    """One page of accounts, by email, matching `search` in the email or the name and placed in
    `unit` (directly or through their agency): a province has too many to list on one page."""
    query = select(User)
    if search:
        needle = search.strip()
        query = query.where(
            or_(User.email.icontains(needle, autoescape=True), User.name.icontains(needle, autoescape=True))
        )
    if unit is not None:
        in_unit = select(Agency.id).where(Agency.org_unit_id == unit.id)
        query = query.where(or_(User.org_unit_id == unit.id, User.agency_id.in_(in_unit)))
    total = db.session.scalar(query.with_only_columns(func.count(User.id))) or 0
    items = db.session.scalars(
        query.options(selectinload(User.agency), selectinload(User.org_unit))
        .order_by(User.email, User.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return UserPage(list(items), total)


def set_active(user_id: int, active: bool) -> User:
    """Deactivating also ends the user's open sessions at once."""
    user = get_user(user_id)
    user.active = active
    if not active:
        user.session_token = secrets.token_hex(16)
    db.session.commit()
    return user


def end_sessions(user: User) -> None:
    """Start a new session generation: every browser session of the user ends (the cookie holds
    the generation it was signed in with, checked on each request)."""
    user.session_token = secrets.token_hex(16)
    db.session.commit()


def new_password() -> str:
    """16 random URL-safe characters: above the minimum length, easy to read out."""
    return secrets.token_urlsafe(12)


def reset_password(user_id: int) -> str:
    """A new random password for the administrator to hand over; the old sessions and the second
    factor end (both go on the administrators' trail)."""
    user = get_user(user_id)
    password = new_password()
    user.set_password(password)
    # A reset is also how someone who lost the phone with their authenticator app gets back in:
    # they set up the app again after signing in.
    user.totp_secret = None
    user.totp_recovery = None
    revoke_api_tokens(user)
    db.session.commit()
    return password


def revoke_api_tokens(user: User) -> None:
    """A new password ends every API token too: a leaked token must not outlive the password."""
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


def set_locale(user: User, locale: str) -> None:
    user.locale = locale
    db.session.commit()
