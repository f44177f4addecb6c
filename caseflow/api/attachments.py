"""A case's attachments: upload (multipart), list, download; each download is in the trail."""

from __future__ import annotations

from flask import jsonify, request, send_file
from werkzeug.exceptions import RequestEntityTooLarge

from caseflow.api import bp, current_user, require_auth
from caseflow.api.schemas import Body, Page
from caseflow.api.spec import endpoint
from caseflow.services import attachments, cases
from caseflow.services.errors import TooLarge

# Room for the multipart envelope around a file of the largest size allowed.
ENVELOPE_BYTES = 64 * 1024


class AttachmentOut(Body):
    id: int
    filename: str
    size: int
    sha256: str
    content_type: str
    kind: str
    description: str | None = None
    form_code: str | None = None
    uploaded_at: str
    uploaded_by: str | None = None


class AttachmentList(Page):
    items: list[AttachmentOut]


@bp.post("/cases/<int:case_id>/attachments")
@require_auth()
@endpoint(ok={201: AttachmentOut}, errors=(403, 404, 413, 415, 422))
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
@endpoint(ok={200: None}, errors=(403, 404))
def download_attachment(case_id: int, attachment_id: int):  # noqa: ANN201
    """Download an attachment (recorded in the trail)"""
    case = cases.get_case(current_user(), case_id)
    item, path = attachments.open_for_download(current_user(), case, attachment_id)
    return send_file(path, mimetype=item.content_type, as_attachment=True, download_name=item.filename)
