"""Whether a new password is good enough: the length rule and a guessability estimate (zxcvbn).

Length alone let "xxxxxxxxxxxx" and "password1234" in; zxcvbn scores how many guesses a
password would take, knowing common passwords, names, dates, keyboard walks and the
account's own email and name. One place, used wherever a password is set.
"""

from __future__ import annotations

from flask import current_app, has_app_context
from zxcvbn import zxcvbn

from caseflow.models.people import MIN_PASSWORD_LENGTH

DEFAULT_MIN_SCORE = 3  # zxcvbn 0-4; 3: "safely unguessable", about 10^8 guesses and more


def problem(password: object, *, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why `password` is refused, or None."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    minimum = (
        current_app.config.get("CASEFLOW_PASSWORD_MIN_SCORE", DEFAULT_MIN_SCORE)
        if has_app_context()
        else DEFAULT_MIN_SCORE
    )
    inputs = [part for value in user_inputs if value for part in (value, *value.replace("@", " ").split())]
    # zxcvbn refuses more than 72 characters (its cost grows with length); a password that long
    # is judged on its first 72.
    if zxcvbn(password[:72], user_inputs=inputs)["score"] < int(minimum):
        return "is too easy to guess: use a longer passphrase of unrelated words"
    return None
