"""Optional second factor (TOTP, RFC 6238) for the roles that decide on cases or administer.

A chair, a supervisor or an administrator may add an authenticator app; a setting
(`CASEFLOW_TOTP_REQUIRED_ROLES`) makes it required for some roles, who are then sent to
set it up before anything else. The secret is encrypted at rest like the identity.
"""

from __future__ import annotations

import pyotp
from flask import current_app

from caseflow.extensions import db
from caseflow.models import User

TOTP_ROLES = ("chair", "supervisor", "admin")
ISSUER = "CaseFlow"


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


def enroll(user: User, secret: str, code: object) -> bool:
    """Keep the secret once the user shows a code made from it; False if the code is wrong."""
    if not may_use(user) or not code_ok(secret, code):
        return False
    user.totp_secret = secret
    db.session.commit()
    return True
