"""The data subject's rights over one case: export, access log, corrections, disclosures."""

from __future__ import annotations

from typing import Any, Literal

from flask import jsonify
from pydantic import ConfigDict, Field

from caseflow.api import bp, current_user, json_body, require_auth
from caseflow.api.schemas import (
    Body,
    Case,
    ChildOut,
    Day,
    Event,
    InformantOut,
    Moment,
    Page,
    Plan,
    Request,
    choice,
    text,
)
from caseflow.api.spec import add_model, endpoint
from caseflow.api.triggers import trigger_models
from caseflow.models.cases import CHANNELS, HARM_TYPES, RISK_LEVELS, SEXES
from caseflow.models.people import ROLES
from caseflow.models.tasks import TASK_STATUSES
from caseflow.services import personal_data
from caseflow.services.intake import CHILD_AGE_LIMIT
from caseflow.services.serialize import case_json
from caseflow.workflow import current_engine
from caseflow.workflow.definition import WorkflowDefinition


class ExportedCase(Body):
    id: int
    reference: str
    state: str
    received_at: Moment
    closed_at: Moment | None
    channel: choice(CHANNELS)
    harm_types: list[choice(HARM_TYPES)]
    risk_level: choice(RISK_LEVELS) | None
    summary: str
    findings: str | None
    plan: Plan | None
    closure_reason: str | None
    data: dict[str, Any] = Field(description="the trigger fields the workflow file keeps `store: data`")
    incident_commune: str
    residence_commune: str


class ExportedChild(ChildOut):
    ethnicity: str | None
    disability: str | None
    age_at_receipt: int | None


class ExportedInformant(InformantOut):
    relation: str | None


class ExportedTask(Body):
    id: int
    kind: str
    agency: str
    status: choice(TASK_STATUSES)
    due_at: Moment
    completed_at: Moment | None
    description: str | None
    outcome: str | None
    note: str | None


class CaseExport(Body):
    """One child's whole record for an access request (Law 91/2025): the case, the child, the
    informant, the tasks and the trail, as the service gathers them."""

    exported_at: Moment
    case: ExportedCase
    child: ExportedChild | None
    informant: ExportedInformant | None
    tasks: list[ExportedTask]
    trail: list[Event]


class AccessEntry(Body):
    at: Moment
    actor: str = Field(description="the user's email, or what acted (a job, an emailed link)")
    role: choice(ROLES) | None
    kind: str = Field(description="the kind of event: a read, a download, an export, a change")
    identity_shown: bool = Field(description="whether the child's identity was in what was read")
    view: str | None = Field(description="what was read (the case, its forms, a document)")


class AccessLog(Page):
    items: list[AccessEntry]


class ChildChanges(Request):
    """The identity fields to change; at least one. Each is checked as at intake."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    full_name: text(200, required=True) = None  # absent or a name: never null
    date_of_birth: Day | None = None
    estimated_age: int | None = Field(None, ge=0, le=CHILD_AGE_LIMIT - 1)
    sex: choice(SEXES) = None  # absent or a value: never null
    address: text(2000) | None = None
    school: text(200) | None = None
    family: text(2000) | None = None


class Correction(Request):
    """A correction of the child's identity: what changes, why, at the case version you saw."""

    reason: text(2000, required=True)
    version: int = Field(description="the case version you last saw (409 when it changed)")
    changes: ChildChanges


class Disclosure(Request):
    """A disclosure outside the handling bodies, with the consents the law asks for."""

    recipient: text(200, required=True)
    purpose: text(2000, required=True)
    parent_consent: Literal[True] = Field(description="no disclosure without the parent's consent")
    child_consent: bool | None = Field(
        None, description="must be true for a child of 7 or older, or of unknown age"
    )


def _case_data_fields(op: dict, components: dict, definition: WorkflowDefinition) -> None:
    """The exported `data` as the workflow in force declares it, like a case's own."""
    components[ExportedCase.__name__]["properties"]["data"] = add_model(
        components, trigger_models().case_data
    )


@bp.get("/cases/<int:case_id>/export")
@require_auth("chair")
@endpoint(ok={200: CaseExport}, errors=(403, 404), refine=_case_data_fields)
def export_case(case_id: int):  # noqa: ANN201
    """One child's whole record for an access request (chair; recorded in the trail)"""
    return jsonify(personal_data.export_case(current_user(), case_id))


@bp.get("/cases/<int:case_id>/access-log")
@require_auth("chair", "supervisor")
@endpoint(ok={200: AccessLog}, errors=(403, 404))
def access_log(case_id: int):  # noqa: ANN201
    """Who read, downloaded or changed the case, for a breach inquiry"""
    items = personal_data.access_log(current_user(), case_id)
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.post("/cases/<int:case_id>/child/corrections")
@require_auth("officer", "chair")
@endpoint(json=Correction, ok={200: Case}, errors=(403, 404, 409), check=False)
def correct_child(case_id: int):  # noqa: ANN201
    """Correct the child's identity: a revision with who and why"""
    case = personal_data.correct_child(current_user(), case_id, json_body())
    return jsonify(case_json(case, current_user(), current_engine()))


@bp.post("/cases/<int:case_id>/disclosures")
@require_auth("officer", "chair")
@endpoint(json=Disclosure, ok={201: Event}, errors=(403, 404), check=False)
def record_disclosure(case_id: int):  # noqa: ANN201
    """Record a disclosure outside the handling bodies, with its consents"""
    event = personal_data.record_disclosure(current_user(), case_id, json_body())
    return jsonify(event.to_json()), 201
