"""Errors a use case raises, as data: a code and its parameters, read in English by the API.

Each field error is a `Why`: it reads as the English text the API contract shows, and
carries the code and parameters the pages translate through Babel (caseflow/web/errors.py),
so no page matches English by substring. A `DomainError` carries its `reason` the same way.
"""

from __future__ import annotations

from typing import Any

# code -> the English text (the API's), with {params}.
REASONS: dict[str, str] = {
    # field errors
    "required": "is required",
    "empty": "must not be empty",
    "not_string": "must be a string",
    "too_long": "must be at most {max} characters",
    "not_bool": "must be true or false",
    "not_choice": "must be one of: {choices}",
    "not_choices": "must be a non-empty list of: {choices}",
    "not_integer": "must be a whole number from {low} to {high}",
    "not_moment": "must be an ISO 8601 date-time with a UTC offset",
    "not_date": "must be a date (YYYY-MM-DD)",
    "not_object": "must be a JSON object",
    "object_required": "is required and must be an object",
    "must_be_object": "must be an object",
    "in_future": "is in the future",
    "not_a_child": "makes the person {limit} or older: not a child",
    "dob_or_age": "give date_of_birth or estimated_age",
    "unknown_commune": "is not a known commune code",
    "commune_gone": "names a commune that no longer exists",
    "must_be": "must be {value}",
    "no_measures": "must be a list of at least one measure",
    "too_many_measures": "at most {max} measures",
    "unknown_agency": "is not a known agency code",
    "agency_out_of_reach": "is outside the case's communes and the units above them",
    "measure_description": "is required (at most {max} characters)",
    "not_in_future": "must be in the future",
    "already_residence": "is already the case's residence commune",
    "outside_area": "is outside your area",
    "unknown_trigger": "unknown trigger; one of: {choices}",
    "version_required": "is required: the case version you last saw",
    "code_format": "may not contain '/' or spaces",
    "unknown_unit": "is not a known org unit code",
    "province_parent": "a province has no parent",
    "wrong_parent": "a {level} sits under a {allowed}",
    "already_used": "is already used",
    "end_before_start": "is before valid_from",
    "not_email": "is not an email address",
    "password_short": "must be at least {min} characters",
    "commune_role_unit": "officers and chairs belong to a commune",
    "supervisor_unit": "supervisors need the unit they supervise",
    "agency_staff_agency": "agency staff need their agency",
    "already_registered": "is already registered",
    "wrong_password": "is wrong",
    "not_year": "must be a year such as 2026",
    # whole-request errors
    "invalid": "Some fields are missing or invalid",
    "stale_version": "The case changed since you loaded it (version {version}, you sent {sent})",
    "concurrent_change": "Someone else changed the case at the same moment; reload and try again",
    "busy": "The case is being changed by someone else; try again",
    "not_in_state": "{trigger} is not allowed while the case is {state}",
    "guard_refused": "{trigger} refused by a guard",
    "open_measures": "{count} plan task(s) still open",
    "measures_await_approval": "added plan task(s) still await the chair's approval",
    "separated": "The child is separated until {until}: extend or end the separation first",
    "handover_waiting": "A handover to {commune} awaits that commune's answer",
    "may_not_fire": "Your role or commune may not {trigger} this case",
    "no_agency": "No {kind} agency serves commune {commune}; an administrator must add one",
    "task_not_open": "The task is already {status}",
    "may_not_complete": "Only the assigned agency (or the commune for commune tasks) may complete this task",
}


class Why(str):
    """A field error: the English text, with the `code` and `params` it was made from."""

    code: str
    params: dict[str, Any]

    def __new__(cls, code: str, **params: Any) -> Why:
        text = super().__new__(cls, REASONS[code].format(**params))
        text.code, text.params = code, params
        return text

    def __reduce__(self) -> tuple:
        # Copied or pickled, it is rebuilt from its code and parameters, not from its text.
        return (_rebuild, (self.code, self.params))


def _rebuild(code: str, params: dict[str, Any]) -> Why:
    return Why(code, **params)


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        fields: dict[str, str] | None = None,
        *,
        reason: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.reason = reason  # a code of REASONS, for pages; None: only the English message
        self.params = params or {}

    @classmethod
    def because(cls, reason: str, fields: dict[str, str] | None = None, **params: Any) -> DomainError:
        """The error for `reason`, its English message made from REASONS and `params`."""
        error = cls.__new__(cls)
        DomainError.__init__(error, REASONS[reason].format(**params), fields, reason=reason, params=params)
        return error

    def to_json(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = {name: str(why) for name, why in self.fields.items()}
        return {"error": body}


class Invalid(DomainError):
    status = 422
    code = "invalid"

    def __init__(self, fields: dict[str, str], message: str = REASONS["invalid"]) -> None:
        super().__init__(message, fields, reason="invalid")


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"

    def __init__(self, message: str = "Not found") -> None:
        super().__init__(message)


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unavailable(DomainError):
    status = 503
    code = "unavailable"


class TooManyAttempts(DomainError):
    """A rate limit or the sign-in delay: try again after `retry_after` seconds."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class UnsupportedType(DomainError):
    status = 415
    code = "unsupported_media_type"
