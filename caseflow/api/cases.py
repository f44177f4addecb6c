"""Cases, transitions, notes and the audit trail."""

from __future__ import annotations

from flask import jsonify, request

from caseflow.api import bp, current_user, flag, json_body, page_json, pagination, require_auth
from caseflow.models.cases import HARM_TYPES, RISK_LEVELS
from caseflow.services import cases, intake, transition
from caseflow.services.errors import Invalid
from caseflow.services.reference import unit_by_code
from caseflow.services.serialize import case_json, case_summary_json
from caseflow.workflow import current_engine


@bp.post("/cases")
@require_auth()
def create_case():  # noqa: ANN201
    case = intake.open_case(current_user(), json_body())
    return jsonify(case_json(case, current_user(), current_engine())), 201


@bp.get("/cases")
@require_auth()
def list_cases():  # noqa: ANN201
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
    items, total = cases.list_cases(
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
    return jsonify(page_json([case_summary_json(c) for c in items], total, page, per_page))


@bp.get("/cases/<int:case_id>")
@require_auth()
def get_case(case_id: int):  # noqa: ANN201
    engine = current_engine()
    case = cases.read_case(engine, current_user(), case_id)
    return jsonify(case_json(case, current_user(), engine))


@bp.post("/cases/<int:case_id>/transitions")
@require_auth()
def fire_transition(case_id: int):  # noqa: ANN201
    data = json_body()
    if not isinstance(data, dict):
        raise Invalid({"body": "must be a JSON object"})
    engine = current_engine()
    case = cases.get_case(current_user(), case_id, for_display=True, to_decide=True)
    with cases.kept_after_commit():  # the response shows what was just written: no read-back
        transition.fire(
            engine, case, current_user(), data.get("trigger"), data.get("version"), data.get("data")
        )
    return jsonify(case_json(case, current_user(), engine))


@bp.post("/cases/<int:case_id>/notes")
@require_auth()
def add_note(case_id: int):  # noqa: ANN201
    event = cases.add_note(current_engine(), current_user(), case_id, json_body())
    return jsonify(event.to_json()), 201


@bp.get("/cases/<int:case_id>/events")
@require_auth()
def events(case_id: int):  # noqa: ANN201
    items = [e.to_json() for e in cases.events_of(current_engine(), current_user(), case_id)]
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})
