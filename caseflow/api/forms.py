"""The annex forms of the contract: their declarations, a case's latest revisions, and edits."""

from __future__ import annotations

import io

from flask import jsonify, send_file

from caseflow.api import bp, current_user, json_body, require_auth
from caseflow.extensions import db
from caseflow.services import access, audit, cases, documents
from caseflow.services import forms as form_service
from caseflow.workflow import current_engine, current_forms


@bp.get("/forms")
@require_auth()
def list_forms():  # noqa: ANN201
    return jsonify(current_forms().to_json())


@bp.get("/cases/<int:case_id>/forms")
@require_auth()
def case_forms(case_id: int):  # noqa: ANN201
    user = current_user()
    case = cases.get_case(user, case_id)
    form_service.require_read(user, case)
    shown = access.can_see_identity(user, case)
    records = form_service.latest_records(case)
    items = [
        form_service.record_json(records[code], shown) for code in current_forms().forms if code in records
    ]
    audit.add(case.id, "read", actor=user, data={"view": "forms", "identity_shown": shown})
    db.session.commit()
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.get("/cases/<int:case_id>/forms/<code>/revisions")
@require_auth()
def form_revisions(case_id: int, code: str):  # noqa: ANN201
    """Every revision of one form, oldest first: an edit never replaces what was recorded."""
    user = current_user()
    form_service.form_def(code)
    case = cases.get_case(user, case_id)
    form_service.require_read(user, case)
    shown = access.can_see_identity(user, case)
    items = [form_service.record_json(r, shown) for r in form_service.revisions(case, code)]
    audit.add(
        case.id, "read", actor=user, data={"view": "form_revisions", "code": code, "identity_shown": shown}
    )
    db.session.commit()
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.put("/cases/<int:case_id>/forms/<code>")
@require_auth()
def save_form(case_id: int, code: str):  # noqa: ANN201
    user = current_user()
    form_service.form_def(code)  # an unknown form is a 404 before anything else is read
    case = cases.get_case(user, case_id)
    record = form_service.save(current_engine(), user, case, code, json_body())
    return jsonify(form_service.record_json(record, access.can_see_identity(user, case)))


@bp.get("/cases/<int:case_id>/documents/<name>")
@require_auth()
def document(case_id: int, name: str):  # noqa: ANN201
    """`{code}.pdf`, `{code}.docx` or `dossier.pdf`: the form filled in, as the annex lays it out."""
    user = current_user()
    case = cases.get_case(user, case_id)
    content, mimetype, filename = documents.download(user, case, name)
    return send_file(io.BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=filename)
