"""Sign-in failures slow down one (account, address) pair, never the account for everyone.

The account freeze this replaces let anyone lock a chair out for 15 minutes, again and again,
by typing five wrong passwords. Now each failed sign-in from an address makes that address
wait longer before its next try for that account (1 s after the third failure, doubling up
to 15 minutes); the owner elsewhere, or anyone after a success from the address, is not
held. Counters live in the rate limiter's storage (Redis when REDIS_URL is set, memory in
the embedded demo), keyed by hashes: no email address is written there in clear.
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import current_app

FREE_FAILURES = 2  # failures allowed before any delay
MAX_DELAY_SECONDS = 900
FORGET_AFTER_SECONDS = 3600  # a failure counts for this long
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600


def _key(kind: str, email: str, address: str | None) -> str:
    digest = hashlib.sha256(f"{(email or '').strip().lower()}|{address or ''}".encode()).hexdigest()[:32]
    return f"{current_app.extensions['caseflow_throttle_prefix']}-signin-{kind}:{digest}"


def _storage():  # noqa: ANN202 - limits.storage.Storage, set up by caseflow.security
    return current_app.extensions["caseflow_throttle_storage"]


def delay_for(failures: int) -> int:
    if failures <= FREE_FAILURES:
        return 0
    return min(2 ** (failures - FREE_FAILURES - 1), MAX_DELAY_SECONDS)


def wait_seconds(email: str, address: str | None) -> int:
    """How long this address must still wait before trying this account again (0: go ahead)."""
    storage = _storage()
    failures = storage.get(_key("failures", email, address))
    if failures <= FREE_FAILURES:
        return 0
    last_ms = storage.get(_key("last", email, address))
    remaining = last_ms / 1000 + delay_for(failures) - time.time()
    return max(0, math.ceil(remaining))


def failed(email: str, address: str | None) -> None:
    storage = _storage()
    storage.incr(_key("failures", email, address), FORGET_AFTER_SECONDS)
    last = _key("last", email, address)
    storage.clear(last)
    # In milliseconds: whole seconds would cut the first 1 s delay to anything from 0 to 1 s.
    storage.incr(last, FORGET_AFTER_SECONDS, amount=int(time.time() * 1000))


def succeeded(email: str, address: str | None) -> None:
    storage = _storage()
    storage.clear(_key("failures", email, address))
    storage.clear(_key("last", email, address))
    known = _key("known", email, address)
    storage.clear(known)
    storage.incr(known, KNOWN_ADDRESS_SECONDS)


def known_address(email: str, address: str | None) -> bool:
    """Whether this account signed in from this address lately (exempt from the account's limit)."""
    return _storage().get(_key("known", email, address)) > 0
