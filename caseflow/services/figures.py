"""The statistics a report counts, read from a new report (Mẫu 01) against the workflow file's lists."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from caseflow.services.validation import Fields
from caseflow.workflow.clock import LOCAL_TZ
from caseflow.workflow.lists import CASE_COLUMNS, CHILD_COLUMNS, Lists

# What intake may already say; the closure outcome and the services come at closure.
INTAKE_CASE_COLUMNS = ("harm_setting", "perpetrator_relation", "special_group")


def _read(fields: Fields, lists: Lists, columns: dict[str, str], names: tuple[str, ...]) -> dict[str, Any]:
    if not lists.lists:  # a workflow file without choice lists records no figures
        return {}
    values = {}
    for name in names:
        value = fields.choice(name, lists[columns[name]].codes)
        if value is not None:
            values[name] = value
    return values


def case_figures(fields: Fields, lists: Lists) -> dict[str, Any]:
    """The case's statistics columns given at intake (each optional, each a code of its list)."""
    return _read(fields, lists, CASE_COLUMNS, INTAKE_CASE_COLUMNS)


def child_figures(fields: Fields, lists: Lists) -> dict[str, Any]:
    """The child's ethnicity and disability (codes of their lists; not identity)."""
    return _read(fields, lists, CHILD_COLUMNS, tuple(CHILD_COLUMNS))


def age_at_receipt(born: date | None, estimated_age: int | None, received_at: datetime) -> int | None:
    """Whole years on the local day the report was received: from the birth date, else the estimate."""
    if born is not None:
        on = received_at.astimezone(LOCAL_TZ).date()
        return max(on.year - born.year - ((on.month, on.day) < (born.month, born.day)), 0)
    return estimated_age
