"""A trigger's data, checked against the fields the workflow file declares for it.

Every error names its field (`data.<name>`, `data.measures[2].due_at`), so the API's 422
and the page's form both point at what to fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import Agency, Case
from caseflow.services import limits
from caseflow.services.directory import commune_by_code
from caseflow.services.errors import Why
from caseflow.services.limits import MAX_MEASURES
from caseflow.services.validation import Fields, parse_moment
from caseflow.workflow.definition import FieldSpec, TransitionDef


def parse_transition_values(
    transition: TransitionDef, data: object, now: datetime, case: Case | None = None
) -> dict[str, Any]:
    """The trigger's data, checked against the fields the definition declares."""
    fields = Fields(data if data is not None else {}, "data.")
    values: dict[str, Any] = {}
    for spec in transition.fields:
        values[spec.name] = _parse_field(fields, spec, now, values, case)
    fields.raise_if_any()
    return values


def parse_fields(fields: Fields, specs: Iterable[FieldSpec], now: datetime) -> dict[str, Any]:
    """Fields outside a trigger (what the report says at intake), errors collected in `fields`."""
    values: dict[str, Any] = {}
    for spec in specs:
        values[spec.name] = _parse_field(fields, spec, now, values, None)
    return values


def _parse_field(fields: Fields, spec: FieldSpec, now: datetime, values: dict, case: Case | None) -> Any:
    if spec.type == "bool":
        value = fields.boolean(spec.name, required=spec.required)
    elif spec.type == "choice":
        value = fields.choice(spec.name, spec.choices, required=spec.required)
    elif spec.type == "choices":
        value = fields.choices(spec.name, spec.choices, required=spec.required)
    elif spec.type == "text":
        value = fields.string(spec.name, required=spec.required, max_length=limits.LONG_TEXT_CHARS)
    elif spec.type == "string":
        value = fields.string(spec.name, required=spec.required, max_length=limits.NAME_CHARS)
    elif spec.type == "commune":
        code = fields.string(spec.name, required=spec.required, max_length=limits.CODE_CHARS)
        value = commune_by_code(fields, spec.name, code) if code else None
    elif spec.type == "measures":
        value = _parse_measures(fields, spec, now, values, case)
    elif spec.type == "date":
        value = fields.day(spec.name, required=spec.required)
    elif spec.type == "task_ids":
        value = _parse_task_ids(fields, spec)
    else:  # pragma: no cover - the loader refuses other types
        raise ValueError(spec.type)
    if spec.must_be is not None and value is not None and value != spec.must_be:
        fields.error(spec.name, Why("must_be", value=str(spec.must_be).lower()))
    return value


def _measure_units(case: Case | None) -> set[int] | None:
    """Where a measure's agency may sit: the case's communes and the units above the child's home.

    A measure hands the child's identity to its agency, so a plan cannot assign work
    to a body outside the case's own jurisdiction (Decree 56 Art. 33).
    """
    if case is None:
        return None
    units = [case.residence_commune, case.incident_commune, *case.residence_commune.ancestors()]
    return {unit.id for unit in units}


def agencies_by_code(codes: Iterable[object]) -> dict[str, Agency]:
    """The agencies a plan names, in one query (a plan may have up to MAX_MEASURES measures)."""
    wanted = {code for code in codes if isinstance(code, str)}
    if not wanted:
        return {}
    return {a.code: a for a in db.session.scalars(select(Agency).where(Agency.code.in_(wanted)))}


def _parse_task_ids(fields: Fields, spec: FieldSpec) -> list[int] | None:
    raw = fields.data.get(spec.name)
    if raw is None:
        if spec.required:
            fields.error(spec.name, "is required")
        return None
    if (
        not isinstance(raw, list)
        or len(raw) > MAX_MEASURES
        or any(not isinstance(i, int) or isinstance(i, bool) for i in raw)
    ):
        fields.error(spec.name, f"must be a list of at most {MAX_MEASURES} task ids")
        return None
    return raw


def _parse_measures(fields: Fields, spec: FieldSpec, now: datetime, values: dict, case: Case | None) -> Any:
    raw = fields.data.get(spec.name)
    if raw is None and not spec.required:  # revise_measures may only cancel
        return None
    allowed_units = _measure_units(case)
    if not isinstance(raw, list) or not raw:
        fields.error(spec.name, Why("no_measures"))
        return None
    if len(raw) > MAX_MEASURES:
        fields.error(spec.name, Why("too_many_measures", max=MAX_MEASURES))
        return None
    as_json = []
    agencies = agencies_by_code([item.get("agency") for item in raw if isinstance(item, dict)])
    for i, item in enumerate(raw):
        prefix = f"{spec.name}[{i}]."
        if not isinstance(item, dict):
            fields.error(f"{spec.name}[{i}]", Why("must_be_object"))
            continue
        code, desc, due_raw = item.get("agency"), item.get("description"), item.get("due_at")
        agency = agencies.get(code) if isinstance(code, str) else None
        if agency is None:
            fields.error(prefix + "agency", Why("unknown_agency"))
        elif allowed_units is not None and agency.org_unit_id not in allowed_units:
            fields.error(prefix + "agency", Why("agency_out_of_reach"))
            agency = None
        if not isinstance(desc, str) or not desc.strip() or len(desc) > limits.SHORT_TEXT_CHARS:
            fields.error(prefix + "description", Why("measure_description", max=limits.SHORT_TEXT_CHARS))
        due = parse_moment(due_raw)
        if due is None:
            fields.error(prefix + "due_at", Why("not_moment"))
        elif due <= now:
            fields.error(prefix + "due_at", Why("not_in_future"))
        if agency and isinstance(desc, str) and due and due > now:
            as_json.append({"agency": agency.code, "description": desc.strip(), "due_at": due.isoformat()})
    return as_json
