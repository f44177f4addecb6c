"""The data subject's rights over one case: export, access log, corrections, disclosures."""

from __future__ import annotations

from flask import jsonify

from caseflow.api import bp, current_user, json_body, require_auth
from caseflow.services import personal_data
from caseflow.services.serialize import case_json
from caseflow.workflow import current_engine


@bp.get("/cases/<int:case_id>/export")
@require_auth("chair")
def export_case(case_id: int):  # noqa: ANN201
    return jsonify(personal_data.export_case(current_user(), case_id))


@bp.get("/cases/<int:case_id>/access-log")
@require_auth("chair", "supervisor")
def access_log(case_id: int):  # noqa: ANN201
    items = personal_data.access_log(current_user(), case_id)
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.post("/cases/<int:case_id>/child/corrections")
@require_auth("officer", "chair")
def correct_child(case_id: int):  # noqa: ANN201
    case = personal_data.correct_child(current_user(), case_id, json_body())
    return jsonify(case_json(case, current_user(), current_engine()))


@bp.post("/cases/<int:case_id>/disclosures")
@require_auth("officer", "chair")
def record_disclosure(case_id: int):  # noqa: ANN201
    event = personal_data.record_disclosure(current_user(), case_id, json_body())
    return jsonify(event.to_json()), 201
