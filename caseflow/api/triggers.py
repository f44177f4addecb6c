"""Models for each trigger's `data`, built from the loaded workflow file, so a field declared
in the YAML is checked and documented with no code change.

A field's `type` in the YAML picks its model type here; a type this module does not know
(a branch may add one) is accepted as any JSON value and left to the services to check,
rather than refusing requests the services would take.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from flask import Flask, current_app
from pydantic import BaseModel, Field, RootModel, create_model

from caseflow.api.schemas import Body, Code, Day, Moment, Request, text
from caseflow.services.trigger_input import MAX_MEASURES
from caseflow.workflow.definition import FieldSpec, TransitionDef, WorkflowDefinition


class Measure(Request):
    """One measure of a plan: the agency that does it, what, and by when."""

    agency: Code = Field(description="an agency code within the case's communes or above")
    description: text(2000, required=True)
    due_at: Moment = Field(description="in the future")


# The YAML's field types, as the services parse them (caseflow/services/transition.py); each
# takes `required`, because a blank text is refused only where the field is required.
FIELD_TYPES: dict[str, Callable[[bool], Any]] = {
    "bool": lambda required: bool,
    "text": lambda required: text(10_000, required=required),
    "string": lambda required: text(200, required=required),
    "commune": lambda required: Annotated[text(20, required=required), Field(description="a commune code")],
    "measures": lambda required: Annotated[list[Measure], Field(min_length=1, max_length=MAX_MEASURES)],
    "date": lambda required: Day,
    "datetime": lambda required: Moment,
    "integer": lambda required: int,
}


def _field_type(spec: FieldSpec) -> Any:
    if spec.must_be is not None:
        return Literal[spec.must_be]
    if spec.type == "choice":
        return Literal[tuple(spec.choices)]
    make = FIELD_TYPES.get(spec.type)
    return make(spec.required) if make else Any


def data_model(transition: TransitionDef) -> type[BaseModel]:
    """The model of one trigger's `data`: required fields required, optional ones nullable."""
    fields: dict[str, Any] = {}
    for spec in transition.fields:
        kind = _field_type(spec)
        fields[spec.name] = (kind, ...) if spec.required else (kind | None, None)
    name = "".join(part.capitalize() for part in transition.trigger.split("_")) + "Data"
    return create_model(name, __base__=Request, **fields)


@dataclass(frozen=True)
class TriggerModels:
    """Per loaded definition: each trigger's data model, the request body as a tagged union
    (for the document: schemathesis and clients see which data goes with which trigger), and
    the case's `data` map, where the fields the YAML keeps `store: data` are shown."""

    data: dict[str, type[BaseModel]]
    request: type[RootModel]
    case_data: type[BaseModel]


def case_data_model(definition: WorkflowDefinition) -> type[BaseModel]:
    """Every `store: data` field, optional and nullable: older cases predate a field, and a
    field may be optional; keys from an older workflow file stay allowed."""
    fields: dict[str, Any] = {}
    for transition in definition.transitions.values():
        for spec in transition.fields:
            if spec.store == "data" and spec.name not in fields:
                fields[spec.name] = (_field_type(spec) | None, None)
    return create_model("CaseData", __base__=Body, **fields)


def build(definition: WorkflowDefinition) -> TriggerModels:
    data = {trigger: data_model(t) for trigger, t in definition.transitions.items()}
    bodies = []
    for trigger, model in data.items():
        has_required = any(f.required for f in definition.transitions[trigger].fields)
        bodies.append(
            create_model(
                model.__name__.removesuffix("Data") + "Request",
                __base__=Request,
                __doc__=f"Fire {trigger}",
                trigger=(Literal[trigger], ...),
                version=(int, Field(description="the case version you last saw")),
                data=(model, ...) if has_required else (model | None, None),
            )
        )
    union = Annotated[Union[tuple(bodies)], Field(discriminator="trigger")]  # noqa: UP007 - built at run time
    request = create_model("TransitionRequest", __base__=RootModel[union])
    return TriggerModels(data=data, request=request, case_data=case_data_model(definition))


def init_app(app: Flask) -> None:
    # At start-up, beside the engine: a field the models cannot express stops the app here.
    app.extensions["caseflow_trigger_models"] = build(app.extensions["caseflow_engine"].definition)


def trigger_models() -> TriggerModels:
    """The models of the workflow in force (the app's loaded definition)."""
    return current_app.extensions["caseflow_trigger_models"]
