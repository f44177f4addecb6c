"""What people read for the codes of CaseFlow's own columns (not the workflow file's): one table
each, through the Babel catalogs, shared by the pages and the report files.

The workflow file's states, triggers, fields and choice lists carry their labels themselves
(`workflows/*.yaml`, read through `caseflow/workflow/definition.py`); these are the codes the
models fix: how a report came in, the kinds of harm, risk, sex, levels, roles, agency kinds.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l

CHANNEL_LABELS = {
    "hotline_111": _l("Hotline 111"),
    "police": _l("Police"),
    "school": _l("School"),
    "health": _l("Health facility"),
    "commune": _l("Commune office"),
    "community": _l("Community member"),
    "self": _l("The child"),
    "other": _l("Other"),
}
HARM_LABELS = {
    "violence": _l("Violence"),
    "sexual_abuse": _l("Sexual abuse"),
    "exploitation": _l("Exploitation, child labour"),
    "trafficking": _l("Trafficking"),
    "abandonment": _l("Abandonment"),
    "neglect": _l("Neglect"),
    "other": _l("Other harm"),
}
RISK_LABELS = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High")}
SEX_LABELS = {"female": _l("Female"), "male": _l("Male"), "unknown": _l("Unknown")}
ROLE_LABELS = {
    "admin": _l("Administrator"),
    "officer": _l("Child-protection officer"),
    "chair": _l("Commune chair"),
    "agency_staff": _l("Agency staff"),
    "supervisor": _l("Supervisor"),
}
LEVEL_LABELS = {"province": _l("Province"), "district": _l("District"), "commune": _l("Commune")}
AGENCY_KIND_LABELS = {
    "commune_committee": _l("Commune People's Committee"),
    "police": _l("Police"),
    "health": _l("Health station"),
    "education": _l("School"),
    "social_services": _l("Social services"),
    "justice": _l("Justice"),
    "hotline": _l("Hotline"),
    "mass_org": _l("Mass organisation"),
    "other": _l("Other"),
}
# A workflow field kept in one of these case columns takes its choices' labels from here: the
# column's codes are the models' (caseflow/models/cases.py), whatever the workflow file says.
COLUMN_CHOICE_LABELS = {"risk_level": RISK_LABELS}


def label(mapping: Mapping, value: str | None) -> str:
    """`value`'s label in `mapping`, in the current language; the value itself if it has none."""
    return str(mapping.get(value, value or ""))
