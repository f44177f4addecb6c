"""The data subject's rights over one case: export, access log, corrections, disclosures."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from caseflow.api import bp, current_user, json_body, require_auth
from caseflow.api.schemas import Body, Case, Event, Moment, Page, Request
from caseflow.api.spec import endpoint
from caseflow.services import personal_data
from caseflow.services.serialize import case_json
from caseflow.workflow import current_engine


class CaseExport(Body):
    """One child's whole record for an access request (Law 91/2025): the case, the child, the
    informant, the forms and the trail, as the service gathers them."""

    exported_at: Moment
    case: dict[str, Any]
    child: dict[str, Any] | None


class AccessEntry(Body):
    at: Moment
    actor: str
    kind: str


class AccessLog(Page):
    items: list[AccessEntry]


class Correction(Request):
    """A correction of the child's identity: the fields to change and why (checked by the service)."""

    model_config = {"extra": "allow"}


class Disclosure(Request):
    """A disclosure outside the handling bodies, with the consents it needs (checked by the service)."""

    model_config = {"extra": "allow"}


@bp.get("/cases/<int:case_id>/export")
@require_auth("chair")
@endpoint(ok={200: CaseExport}, errors=(403, 404))
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
@endpoint(json=Correction, ok={200: Case}, errors=(403, 404), check=False)
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
