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
}
CONFLICT_DEFAULT = _l(
    "This action is not possible in the case's current step. The page shows the latest version."
)


def field_text(why: str) -> str:
    """The page's words for a field error; an error without a known code keeps its own text."""
    code = why.code if isinstance(why, Why) else None
    text = FIELD_TEXTS.get(code) if code else None
    return str(text) if text is not None else str(why)


def conflict_text(exc: DomainError) -> str:
    return str(CONFLICT_TEXTS.get(exc.reason or "", CONFLICT_DEFAULT))
