"""Cases, transitions, notes and the audit trail."""

from __future__ import annotations

from flask import current_app, jsonify, request

from caseflow.api import bp, current_user, flag, page_json, pagination, require_auth
from caseflow.api.schemas import (
    Case,
    CaseList,
    CaseQuery,
    Event,
    EventList,
    NewCase,
    NewNote,
    TransitionEnvelope,
)
from caseflow.api.spec import add_model, body, checked_body, endpoint
from caseflow.api.triggers import trigger_models
from caseflow.models.cases import HARM_TYPES, RISK_LEVELS
from caseflow.services import cases, intake, transition
from caseflow.services.errors import Invalid
from caseflow.services.reference import unit_by_code
from caseflow.services.serialize import case_json, case_summary_json
from caseflow.workflow import current_engine
from caseflow.workflow.definition import WorkflowDefinition


def _summary_limit(op: dict, components: dict, definition: WorkflowDefinition) -> None:
    """The summary's limit is a setting: the document states this installation's."""
    components[NewCase.__name__]["properties"]["summary"]["maxLength"] = current_app.config[
        "MAX_SUMMARY_CHARS"
    ]


@bp.post("/cases")
@require_auth()
@endpoint(json=NewCase, ok={201: Case}, errors=(403,), refine=_summary_limit)
def create_case():  # noqa: ANN201
    """Record a report and open its case"""
    case = intake.open_case(current_user(), body())
    return jsonify(case_json(case, current_user(), current_engine())), 201


def _states_in_force(op: dict, components: dict, definition: WorkflowDefinition) -> None:
    for param in op.get("parameters", []):
        if param["name"] == "state":
            param["schema"] = {"enum": list(definition.states)}


@bp.get("/cases")
@require_auth()
@endpoint(query=CaseQuery, ok={200: CaseList}, refine=_states_in_force)
def list_cases():  # noqa: ANN201
    """Cases in the caller's reach, without the child's identity"""
    page, per_page = pagination()
    engine = current_engine()
    state = request.args.get("state") or None
    if state and state not in engine.definition.states:
        raise Invalid({"state": f"must be one of: {', '.join(engine.definition.states)}"})
    risk = request.args.get("risk_level") or None
    if risk and risk not in RISK_LEVELS:
        raise Invalid({"risk_level": f"must be one of: {', '.join(RISK_LEVELS)}"})
    harm = request.args.get("harm_type") or None
    if harm and harm not in HARM_TYPES:
        raise Invalid({"harm_type": f"must be one of: {', '.join(HARM_TYPES)}"})
    unit = None
    if request.args.get("org_unit"):
        unit = unit_by_code(request.args["org_unit"])
        if unit is None:
            raise Invalid({"org_unit": "is not a known org unit code"})
    found = cases.list_cases(
        current_user(),
        page,
        per_page,
        state=state,
        overdue=flag("overdue"),
        org_unit=unit,
        reference=request.args.get("reference") or None,
        risk_level=risk,
        harm_type=harm,
    )
    body = page_json([case_summary_json(c) for c in found.items], found.total, page, per_page)
    return jsonify(body | {"total_exact": found.exact})


def _case_data_fields(op: dict, components: dict, definition: WorkflowDefinition) -> None:
    """A case's `data` as the workflow in force declares it: each `store: data` field."""
    components[Case.__name__]["properties"]["data"] = add_model(components, trigger_models().case_data)


@bp.get("/cases/<int:case_id>")
@require_auth()
@endpoint(ok={200: Case}, errors=(404,), refine=_case_data_fields)
def get_case(case_id: int):  # noqa: ANN201
    """One case (the read is recorded in its trail)"""
    engine = current_engine()
    case = cases.read_case(engine, current_user(), case_id)
    return jsonify(case_json(case, current_user(), engine))


def _trigger_bodies(op: dict, components: dict, definition: WorkflowDefinition) -> None:
    """The body as the workflow in force declares it: one schema per trigger, tagged by `trigger`."""
    components.pop(TransitionEnvelope.__name__, None)
    ref = add_model(components, trigger_models().request)
    op["requestBody"]["content"]["application/json"]["schema"] = ref


@bp.post("/cases/<int:case_id>/transitions")
@require_auth()
@endpoint(json=TransitionEnvelope, ok={200: Case}, errors=(403, 404, 409), refine=_trigger_bodies)
def fire_transition(case_id: int):  # noqa: ANN201
    """Fire a trigger on a case: 200 with the case as it now is"""
    data = body()
    engine = current_engine()
    case = cases.get_case(current_user(), case_id, for_display=True, to_decide=True)
    model = trigger_models().data.get(data["trigger"])
    if model is not None:  # an unknown trigger is the service's 422, naming the known ones
        checked_body(model, data.get("data") or {}, "data.")
    with cases.kept_after_commit():  # the response shows what was just written: no read-back
        transition.fire(engine, case, current_user(), data["trigger"], data["version"], data.get("data"))
    return jsonify(case_json(case, current_user(), engine))


@bp.post("/cases/<int:case_id>/notes")
@require_auth()
@endpoint(json=NewNote, ok={201: Event}, errors=(403, 404))
def add_note(case_id: int):  # noqa: ANN201
    """Add a note to the case's trail"""
    event = cases.add_note(current_engine(), current_user(), case_id, body())
    return jsonify(event.to_json()), 201


@bp.get("/cases/<int:case_id>/events")
@require_auth()
@endpoint(ok={200: EventList}, errors=(403, 404))
def events(case_id: int):  # noqa: ANN201
    """The case's audit trail, reads included"""
    items = [e.to_json() for e in cases.events_of(current_engine(), current_user(), case_id)]
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})
