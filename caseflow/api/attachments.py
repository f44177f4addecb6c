"""A case's attachments: upload (multipart), list, download; each download is in the trail."""

from __future__ import annotations

from flask import jsonify, request, send_file
from werkzeug.exceptions import RequestEntityTooLarge

from caseflow.api import bp, current_user, require_auth
from caseflow.services import attachments, cases
from caseflow.services.errors import TooLarge

# Room for the multipart envelope around a file of the largest size allowed.
ENVELOPE_BYTES = 64 * 1024


@bp.post("/cases/<int:case_id>/attachments")
@require_auth()
def add_attachment(case_id: int):  # noqa: ANN201
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
def list_attachments(case_id: int):  # noqa: ANN201
    case = cases.get_case(current_user(), case_id)
    items = [attachments.attachment_json(a) for a in attachments.list_for(current_user(), case)]
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
@require_auth()
def download_attachment(case_id: int, attachment_id: int):  # noqa: ANN201
    case = cases.get_case(current_user(), case_id)
    item, path = attachments.open_for_download(current_user(), case, attachment_id)
    return send_file(path, mimetype=item.content_type, as_attachment=True, download_name=item.filename)
