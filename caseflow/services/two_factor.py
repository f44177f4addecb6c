"""Optional second factor (TOTP, RFC 6238) for the roles that decide on cases or administer.

A chair, a supervisor or an administrator may add an authenticator app; a setting
(`CASEFLOW_TOTP_REQUIRED_ROLES`) makes it required for some roles, who are then sent to
set it up before anything else. The secret is encrypted at rest like the identity.

Setting up the app also gives ten one-time recovery codes, for the day the phone is lost:
shown once, kept only as hashes, each good for one sign-in in place of the app's code (the
same field, the same limits and delays), each use on the administrators' trail. A new set
(page or `flask caseflow recovery-codes`) replaces the old one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import pyotp
from flask import current_app
from sqlalchemy import update

from caseflow.extensions import db
from caseflow.models import User
from caseflow.services.admin_audit import admin_event

TOTP_ROLES = ("chair", "supervisor", "admin")
ISSUER = "CaseFlow"
RECOVERY_CODES = 10
# 16 characters of base32: 80 random bits, so a stolen list of hashes cannot be reversed by
# trying codes; read out in groups of four.
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_RECOVERY_CHARS = 16


def may_use(user: User) -> bool:
    return user.role in TOTP_ROLES


def required_for(user: User) -> bool:
    roles = {r.strip() for r in str(current_app.config.get("CASEFLOW_TOTP_REQUIRED_ROLES") or "").split(",")}
    return user.role in roles and may_use(user)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def code_ok(secret: str | None, code: object) -> bool:
    """The code of this or the neighbouring 30-second step (clocks drift)."""
    if not secret or not isinstance(code, str):
        return False
    code = code.strip().replace(" ", "")
    return code.isdigit() and len(code) == 6 and pyotp.TOTP(secret).verify(code, valid_window=1)


def enroll(user: User, secret: str, code: object) -> list[str] | None:
    """Keep the secret once the user shows a code made from it, and return the new recovery
    codes (to show once); None if the code is wrong."""
    if not may_use(user) or not code_ok(secret, code):
        return None
    user.totp_secret = secret
    codes = _issue_recovery_codes(user)
    db.session.commit()
    return codes


def _normal(code: str) -> str:
    return code.strip().lower().replace("-", "").replace(" ", "")


def _hash(user: User, code: str) -> str:
    # Salted with the user: the same code of two users (or of one user's two sets) differs.
    return hashlib.sha256(f"caseflow-recovery:{user.id}:{_normal(code)}".encode()).hexdigest()


def _issue_recovery_codes(user: User) -> list[str]:
    raw = [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_CHARS))
        for _ in range(RECOVERY_CODES)
    ]
    codes = ["-".join(c[i : i + 4] for i in range(0, _RECOVERY_CHARS, 4)) for c in raw]
    user.totp_recovery = " ".join(_hash(user, c) for c in codes)
    admin_event(db.session, "user.recovery_codes_issued", f"user:{user.email}", count=len(codes))
    return codes


def recovery_codes_left(user: User) -> int:
    return len((user.totp_recovery or "").split())


def regenerate(user: User, code: object) -> list[str] | None:
    """A new set of recovery codes for a user who shows the app's current code (the old set
    stops working); None if the code is wrong or the user has no app."""
    if not user.totp_secret or not code_ok(user.totp_secret, code):
        return None
    codes = _issue_recovery_codes(user)
    db.session.commit()
    return codes


def regenerate_for(user: User) -> list[str]:
    """A new set for an operator to hand over (`flask caseflow recovery-codes`)."""
    if not user.totp_secret:
        raise ValueError("this user has no authenticator app")
    codes = _issue_recovery_codes(user)
    db.session.commit()
    return codes


def use_recovery_code(user: User, code: object) -> bool:
    """Spend one recovery code: True once per code. The conditional UPDATE makes two sign-ins
    racing with the same code end with one success."""
    if not isinstance(code, str) or len(_normal(code)) != _RECOVERY_CHARS or not user.totp_recovery:
        return False
    stored = user.totp_recovery
    wanted = _hash(user, code)
    hashes = stored.split()
    # Every stored hash is compared, in constant time: the answer's timing says nothing.
    matches = [h for h in hashes if hmac.compare_digest(h, wanted)]
    if not matches:
        return False
    left = " ".join(h for h in hashes if h != wanted)
    users = User.__table__
    spent = db.session.execute(
        update(users).where(users.c.id == user.id, users.c.totp_recovery == stored).values(totp_recovery=left)
    )
    if spent.rowcount != 1:
        db.session.rollback()
        return False
    admin_event(
        db.session, "user.recovery_code_used", f"user:{user.email}", actor=user, left=len(left.split())
    )
    db.session.commit()
    db.session.refresh(user)
    return True


def second_factor_ok(user: User, code: object) -> bool:
    """The app's current code, or one unused recovery code (spent by this call)."""
    return code_ok(user.totp_secret, code) or use_recovery_code(user, code)
