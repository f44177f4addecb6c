"""A case's attachments: upload (multipart), list, download; each download is in the trail."""

from __future__ import annotations

from flask import jsonify, request, send_file
from pydantic import Field
from werkzeug.exceptions import RequestEntityTooLarge

from caseflow.api import bp, current_user, require_auth
from caseflow.api.schemas import Body, File, Moment, Page, Query, choice
from caseflow.api.spec import endpoint
from caseflow.models.forms import ATTACHMENT_KINDS
from caseflow.services import attachments, cases
from caseflow.services.errors import TooLarge

# Room for the multipart envelope around a file of the largest size allowed.
ENVELOPE_BYTES = 64 * 1024


class AttachmentOut(Body):
    id: int
    filename: str = Field(description="as uploaded, for the download's name")
    size: int = Field(ge=0, description="bytes")
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    content_type: choice(attachments.CONTENT_TYPES) = Field(
        description="as its content shows, not as declared"
    )
    kind: choice(ATTACHMENT_KINDS)
    description: str | None
    form_code: str | None = Field(description="the form it belongs to (a signed form), if any")
    uploaded_at: Moment
    uploaded_by: str | None = Field(description="the uploader's email")


class AttachmentList(Page):
    items: list[AttachmentOut]


class NewAttachment(Query):
    """The multipart form; the service checks each field (the file by its content) and names it."""

    file: File = Field(description="PDF, JPEG, PNG or DOCX, at most ATTACHMENT_MAX_BYTES (a setting)")
    kind: choice(ATTACHMENT_KINDS) | None = Field(None, description="default: evidence")
    description: str | None = Field(None, max_length=attachments.MAX_DESCRIPTION)
    form_code: str | None = Field(None, description="a form code of `GET /forms`")


@bp.post("/cases/<int:case_id>/attachments")
@require_auth()
@endpoint(form=NewAttachment, check=False, ok={201: AttachmentOut}, errors=(403, 404, 413, 415, 422))
def add_attachment(case_id: int):  # noqa: ANN201
    """Attach a file (PDF, JPEG, PNG, DOCX) to a case"""
    user = current_user()
    case = cases.get_case(user, case_id)
    # Above the app's 1 MB request limit for this one route: past the setting, werkzeug
    # refuses the body (413) before reading it.
    request.max_content_length = attachments.max_bytes() + ENVELOPE_BYTES
    try:
        upload, fields = request.files.get("file"), request.form
    except RequestEntityTooLarge as exc:
        raise TooLarge("The file is too large", {"file": "is too large"}) from exc
    item = attachments.add(user, case, upload, fields)
    return jsonify(attachments.attachment_json(item)), 201


@bp.get("/cases/<int:case_id>/attachments")
@require_auth()
@endpoint(ok={200: AttachmentList}, errors=(403, 404))
def list_attachments(case_id: int):  # noqa: ANN201
    """The files attached to a case"""
    case = cases.get_case(current_user(), case_id)
    items = [attachments.attachment_json(a) for a in attachments.list_for(current_user(), case)]
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
@require_auth()
@endpoint(ok={200: None}, files={200: attachments.CONTENT_TYPES}, errors=(403, 404))
def download_attachment(case_id: int, attachment_id: int):  # noqa: ANN201
    """Download an attachment (recorded in the trail)"""
    case = cases.get_case(current_user(), case_id)
    item, path = attachments.open_for_download(current_user(), case, attachment_id)
    return send_file(path, mimetype=item.content_type, as_attachment=True, download_name=item.filename)
