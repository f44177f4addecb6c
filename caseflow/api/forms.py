"""The annex forms of the contract: their declarations, a case's latest revisions, and edits."""

from __future__ import annotations

import io
from typing import Any

from flask import jsonify, send_file
from pydantic import Field

from caseflow.api import bp, current_user, json_body, require_auth
from caseflow.api.schemas import Body, LocalText, Moment, Page, Request, choice
from caseflow.api.spec import endpoint
from caseflow.extensions import db
from caseflow.services import access, audit, cases, documents
from caseflow.services import forms as form_service
from caseflow.workflow import current_engine, current_forms
from caseflow.workflow.forms import FIELD_TYPES, PERSON_PARTS
from caseflow.workflow.forms import KINDS as FORM_KINDS


class FormOption(Body):
    value: str
    label: LocalText


class FormFieldOut(Body):
    """A field of a form as the workflow file declares it (caseflow/workflow/forms.py)."""

    name: str
    type: choice(FIELD_TYPES)
    required: bool
    label: LocalText
    identity: bool = Field(description="the child's identity: kept encrypted, shown only to who may see it")
    options: list[FormOption] | None = Field(None, description="a choice field's values")
    parts: list[choice(tuple(PERSON_PARTS))] | None = Field(None, description="a person field's parts")
    fields: list[FormFieldOut] | None = Field(None, description="a rows field's columns")


class FormDeclaration(Body):
    code: str
    title: LocalText
    short: LocalText
    kind: choice(FORM_KINDS)
    fields: list[FormFieldOut]


class FormList(Body):
    items: list[FormDeclaration]


class FormRecordOut(Body):
    code: str
    revision: int = Field(ge=1)
    recorded_at: Moment
    recorded_by: str = Field(description="the user's email, or what recorded it (a trigger, the intake)")
    recorded_with: str | None = Field(description="the trigger or intake that filled it, if one did")
    reason: str | None = Field(description="why an earlier revision was edited")
    data: dict[str, Any] = Field(
        description="the form's fields by name (`GET /forms`); identity fields only for roles that may see identity"
    )


class FormRecordList(Page):
    items: list[FormRecordOut]


class FormEdit(Request):
    data: dict[str, Any]
    revision: int = Field(ge=0, description="the revision edited; 0 for a new form")
    reason: str | None = None


@bp.get("/forms")
@require_auth()
@endpoint(ok={200: FormList})
def list_forms():  # noqa: ANN201
    """The annex forms the workflow file declares"""
    return jsonify(current_forms().to_json())


@bp.get("/cases/<int:case_id>/forms")
@require_auth()
@endpoint(ok={200: FormRecordList}, errors=(403, 404))
def case_forms(case_id: int):  # noqa: ANN201
    """The latest revision of each form of a case"""
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
@endpoint(ok={200: FormRecordList}, errors=(403, 404))
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
@endpoint(json=FormEdit, check=False, ok={200: FormRecordOut}, errors=(403, 404, 409, 422))
def save_form(case_id: int, code: str):  # noqa: ANN201
    """Save a form as its next revision (409 when the revision is stale)"""
    user = current_user()
    form_service.form_def(code)  # an unknown form is a 404 before anything else is read
    case = cases.get_case(user, case_id)
    record = form_service.save(current_engine(), user, case, code, json_body())
    return jsonify(form_service.record_json(record, access.can_see_identity(user, case)))


@bp.get("/cases/<int:case_id>/documents/<name>")
@require_auth()
@endpoint(ok={200: None}, files={200: tuple(documents.MIMETYPES.values())}, errors=(403, 404))
def document(case_id: int, name: str):  # noqa: ANN201
    """`{code}.pdf`, `{code}.docx` or `dossier.pdf`: the form filled in, as the annex lays it out."""
    user = current_user()
    case = cases.get_case(user, case_id)
    content, mimetype, filename = documents.download(user, case, name)
    return send_file(io.BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=filename)
