"""What the pages say for a domain error: its code and parameters through the Babel catalogs.

The services give each error a code (caseflow/services/errors.py, `Why` and
`DomainError.reason`); the API shows their English text, the pages the user's language
from here. Nothing matches English text.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from caseflow.services.errors import DomainError, Why

# field-error code -> what a form says under the field
FIELD_TEXTS = {
    "required": _l("This field is required."),
    "object_required": _l("This field is required."),
    "measure_description": _l("This field is required."),
    "version_required": _l("This field is required."),
    "empty": _l("This field is required."),
    "unknown_commune": _l("Choose a commune from the list."),
    "commune_gone": _l("This commune no longer exists."),
    "in_future": _l("This cannot be in the future."),
    "dob_or_age": _l("Give the date of birth or an estimated age."),
    "not_a_child": _l("A child is a person under 16."),
    "not_choices": _l("Choose at least one."),
    "not_choice": _l("Choose one of the options."),
    "not_bool": _l("Answer yes or no."),
    "must_be": _l("This must be confirmed before the case can be closed."),
    "no_measures": _l("Give at least one measure."),
    "unknown_agency": _l("Choose an agency."),
    "not_moment": _l("Give a date."),
    "not_in_future": _l("The date must be in the future."),
    "already_residence": _l("The case already belongs to this commune."),
    "already_used": _l("This code is already used."),
    "already_registered": _l("This e-mail is already registered."),
    "not_email": _l("Give a valid e-mail address."),
    "outside_area": _l("You may record reports only for your own area."),
    "password_short": _l("The password is too short."),
    "wrong_password": _l("The current password is wrong."),
    "commune_role_unit": _l("Officers and chairs belong to a commune."),
    "supervisor_unit": _l("Supervisors need the unit they supervise."),
    "agency_staff_agency": _l("Agency staff need their agency."),
    "unknown_unit": _l("Choose a unit from the list."),
    "province_parent": _l("A province has no parent unit."),
    "wrong_parent": _l("This level cannot sit under that parent unit."),
    "end_before_start": _l("The end date is before the start date."),
}

# DomainError reason -> what the case page says about a refused action
CONFLICT_TEXTS = {
    "stale_version": _l(
        "Someone else changed this case after you opened it. The page now shows the latest "
        "version: check it, then submit again if the action is still needed."
    ),
    "concurrent_change": _l(
        "Someone else changed this case after you opened it. The page now shows the latest "
        "version: check it, then submit again if the action is still needed."
    ),
    "open_measures": _l("All plan measures must be completed before follow-up starts."),
    "measures_await_approval": _l("All plan measures must be completed before follow-up starts."),
    "separated": _l("The child is separated: extend or end the separation first."),
    "handover_waiting": _l("A handover awaits the other commune's answer."),
}
CONFLICT_DEFAULT = _l(
    "This action is not possible in the case's current step. The page shows the latest version."
)


# Field errors the services still give as plain English (no code yet, from branches that came
# after the codes): the page's words by the text's beginning. A code above always wins.
PLAIN_TEXTS = (
    ("is required", _l("This field is required.")),
    ("must not be empty", _l("This field is required.")),
    ("is not a known commune code", _l("Choose a commune from the list.")),
    ("names a commune that no longer exists", _l("This commune no longer exists.")),
    ("is in the future", _l("This cannot be in the future.")),
    ("give date_of_birth or estimated_age", _l("Give the date of birth or an estimated age.")),
    ("makes the person", _l("A child is a person under 16.")),
    ("must be a non-empty list", _l("Choose at least one.")),
    ("must be one of", _l("Choose one of the options.")),
    ("must be true or false", _l("Answer yes or no.")),
    ("must be true", _l("This must be confirmed before the case can be closed.")),
    ("must be a list of at least one measure", _l("Give at least one measure.")),
    ("is not a known agency code", _l("Choose an agency.")),
    ("must be an ISO 8601", _l("Give a date.")),
    ("must be in the future", _l("The date must be in the future.")),
    ("is already the case's residence commune", _l("The case already belongs to this commune.")),
    ("is already used", _l("This code is already used.")),
    ("is already registered", _l("This e-mail is already registered.")),
    ("is not an email address", _l("Give a valid e-mail address.")),
    ("is outside your area", _l("You may record reports only for your own area.")),
    ("must be at least", _l("The password is too short.")),
    (
        "is too easy to guess",
        _l("This password is too easy to guess. Use a longer phrase of unrelated words."),
    ),
    ("must be valid Unicode text", _l("This text holds a character that cannot be stored.")),
    ("is before CaseFlow's earliest date", _l("This date is before Decree 56 came into force.")),
    ("is wrong", _l("The current password is wrong.")),
    ("officers and chairs belong to a commune", _l("Officers and chairs belong to a commune.")),
    ("supervisors need", _l("Supervisors need the unit they supervise.")),
    ("agency staff need", _l("Agency staff need their agency.")),
    ("is not a known org unit code", _l("Choose a unit from the list.")),
    ("a province has no parent", _l("A province has no parent unit.")),
    ("sits under", _l("This level cannot sit under that parent unit.")),
    ("is before valid_from", _l("The end date is before the start date.")),
    (
        "is more than 15 calendar days",
        _l("At most 15 days from the first decision, unless a competent authority ordered more."),
    ),
    ("is before today", _l("The date cannot be in the past.")),
    ("must be later than the current end", _l("The new date must be later than the current end.")),
    ("is not an open measure of this case", _l("This measure is no longer open.")),
    ("give measures to add", _l("Cancel a measure or add one.")),
    ("is required: why the measures are cancelled", _l("Say why the measures are cancelled.")),
    ("must be a date", _l("Give a date.")),
)


def field_text(why: str) -> str:
    """The page's words for a field error: by its code, or for a plain-English error by the
    text's beginning; an error neither knows keeps its own text."""
    code = why.code if isinstance(why, Why) else None
    text = FIELD_TEXTS.get(code) if code else None
    if text is None:
        text = next((words for prefix, words in PLAIN_TEXTS if str(why).startswith(prefix)), None)
    return str(text) if text is not None else str(why)


def conflict_text(exc: DomainError) -> str:
    return str(CONFLICT_TEXTS.get(exc.reason or "", CONFLICT_DEFAULT))
