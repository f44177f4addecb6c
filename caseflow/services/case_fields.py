"""Where a trigger's values are kept on the case, as the workflow file declares (`store:`).

The file says per field `column`, `data` or `trail` (caseflow/workflow/definition.py,
FieldSpec); this module is the only code that turns that into case attributes, and reads
them back for display, so no field name is spelled in services, pages or the API.
"""

from __future__ import annotations

from typing import Any

from caseflow.models import Agency, Case, OrgUnit
from caseflow.workflow.definition import FieldSpec, TransitionDef, WorkflowDefinition


def _kept(value: Any) -> Any:
    """A value as a JSON map keeps it: communes and agencies by code."""
    if isinstance(value, OrgUnit | Agency):
        return value.code
    return value


def changes_for(transition: TransitionDef, case: Case, values: dict[str, Any]) -> dict[str, Any]:
    """The case attributes the transition's values set: columns, JSON-column keys and `data`.

    A field left out (None) changes nothing. A JSON column written under keys (the plan's
    text and measures) is replaced as a whole by the fields that name it, as a new plan
    replaces the old; `data` is merged, field by field.
    """
    changes: dict[str, Any] = {}
    maps: dict[str, dict[str, Any]] = {}
    data: dict[str, Any] | None = None
    for spec in transition.fields:
        value = values.get(spec.name)
        if spec.store == "trail":
            continue
        if spec.store == "data":
            if value is not None:
                data = dict(case.data or {}) if data is None else data
                data[spec.name] = _kept(value)
        elif spec.key is not None:
            maps.setdefault(spec.column, {})[spec.key] = _kept(value)
        elif value is not None:
            changes[spec.column] = value
    for column, value in maps.items():
        if any(v is not None for v in value.values()):
            changes[column] = value
    if data is not None:
        changes["data"] = data
    return changes


def stored(case: Case, spec: FieldSpec) -> Any:
    """The value a field keeps on the case, or None (a `trail` field keeps none)."""
    if spec.store == "data":
        return (case.data or {}).get(spec.name)
    if spec.store == "column":
        value = getattr(case, spec.column, None)
        if spec.key is not None:
            return (value or {}).get(spec.key) if isinstance(value, dict) else None
        return value
    return None


def measures_field(definition: WorkflowDefinition) -> FieldSpec | None:
    """The field that keeps the plan's measures (`for_each: measures` reads it back)."""
    for transition in definition.transitions.values():
        for spec in transition.fields:
            if spec.type == "measures" and spec.store != "trail":
                return spec
    return None


def data_fields(definition: WorkflowDefinition) -> list[FieldSpec]:
    """Every field kept in the case's `data` map, once each, in the file's order."""
    seen: dict[str, FieldSpec] = {}
    for transition in definition.transitions.values():
        for spec in transition.fields:
            if spec.store == "data" and spec.name not in seen:
                seen[spec.name] = spec
    return list(seen.values())


__all__ = ["changes_for", "data_fields", "measures_field", "stored"]
