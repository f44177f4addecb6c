"""Files kept with a case: evidence (Decree 56 Art. 31) and the signed, stamped scans of its forms.

A file is checked by what it contains, not by its name or the type the browser claims, and
stored outside the web root under a name of our own; its SHA-256 is kept so a printed
dossier can be matched to the file. A refused file leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import uuid
import zipfile
from pathlib import Path
from typing import IO, Any

from flask import current_app
from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import Attachment, Case, User
from caseflow.models.forms import ATTACHMENT_KINDS
from caseflow.services import access, audit
from caseflow.services import forms as form_service
from caseflow.services.backup import attachments_dir
from caseflow.services.cases import MAX_ID
from caseflow.services.errors import Forbidden, Invalid, NotFound, TooLarge, UnsupportedType
from caseflow.workflow import current_forms

CHUNK = 1024 * 1024
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CONTENT_TYPES = ("application/pdf", "image/jpeg", "image/png", DOCX_TYPE)  # what `sniff` recognises
MAX_DESCRIPTION = 2000


def folder() -> Path:
    """The attachments folder (CASEFLOW_ATTACHMENTS_DIR, default instance/attachments)."""
    path = attachments_dir()  # one home for where they are: the backup copies the same folder
    path.mkdir(parents=True, exist_ok=True)
    return path


def max_bytes() -> int:
    return int(current_app.config["ATTACHMENT_MAX_BYTES"])


def sniff(path: Path) -> tuple[str, str] | None:
    """(content type, extension) from the file's first bytes; a DOCX is a zip holding
    word/document.xml. None for anything else."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"%PDF-"):
        return "application/pdf", "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                if "word/document.xml" in archive.namelist():
                    return DOCX_TYPE, "docx"
        except zipfile.BadZipFile:
            return None
    return None


def _receive(stream: IO[bytes], target: Path, limit: int) -> tuple[int, str]:
    """Copy the upload to `target`, counting and hashing; TooLarge (and nothing kept) past `limit`."""
    digest, size = hashlib.sha256(), 0
    with open(target, "wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                break
            digest.update(chunk)
            out.write(chunk)
    if size > limit:
        target.unlink(missing_ok=True)
        raise TooLarge(f"The file is larger than {limit // (1024 * 1024)} MB", {"file": "is too large"})
    return size, digest.hexdigest()


def attachment_json(item: Attachment) -> dict:
    return {
        "id": item.id,
        "filename": item.filename,
        "size": item.size,
        "sha256": item.sha256,
        "content_type": item.content_type,
        "kind": item.kind,
        "description": item.description,
        "form_code": item.form_code,
        "uploaded_at": item.uploaded_at.isoformat(),
        "uploaded_by": item.uploaded_by.email if item.uploaded_by else None,
    }


def add(user: User, case: Case, upload: Any, fields: dict[str, Any]) -> Attachment:
    """Keep an uploaded file (`upload`: a werkzeug FileStorage or None) for the case."""
    if not access.may_write_dossier(user, case):
        raise Forbidden("Only the officer or chair of the case's communes adds files to it")
    errors: dict[str, str] = {}
    kind = fields.get("kind") or "evidence"
    if kind not in ATTACHMENT_KINDS:
        errors["kind"] = f"must be one of: {', '.join(ATTACHMENT_KINDS)}"
    description = (fields.get("description") or "").strip() or None
    if description and len(description) > MAX_DESCRIPTION:
        errors["description"] = f"must be at most {MAX_DESCRIPTION} characters"
    form_code = fields.get("form_code") or None
    if form_code is not None and form_code not in current_forms().forms:
        errors["form_code"] = "is not a known form code"
    if upload is None or not getattr(upload, "stream", None):
        errors["file"] = "is required"
    if errors:
        raise Invalid(errors)
    base = folder() / str(case.id)
    base.mkdir(exist_ok=True)
    stored = f"{uuid.uuid4().hex}"
    target = base / f"{stored}.part"
    size, sha256 = _receive(upload.stream, target, max_bytes())
    found = sniff(target) if size else None
    if found is None:
        target.unlink(missing_ok=True)
        raise UnsupportedType(
            "Only PDF, JPEG, PNG and DOCX files are kept", {"file": "must be a PDF, JPEG, PNG or DOCX file"}
        )
    content_type, extension = found
    final = base / f"{stored}.{extension}"
    os.replace(target, final)
    item = Attachment(
        case_id=case.id,
        kind=kind,
        description=description,
        form_code=form_code,
        filename="",
        content_type=content_type,
        size=size,
        sha256=sha256,
        stored_name=f"{case.id}/{final.name}",
        uploaded_by_id=user.id,
    )
    try:
        db.session.add(item)
        db.session.flush()
        # Our own name: the uploader's may name the child.
        item.filename = f"{case.reference}-{form_code or kind}-{item.id}.{extension}"
        audit.add(
            case.id,
            "attachment_added",
            actor=user,
            data={
                "attachment_id": item.id,
                "kind": kind,
                "form_code": form_code,
                "sha256": sha256,
                "size": size,
            },
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        final.unlink(missing_ok=True)
        raise
    return item


def list_for(user: User, case: Case) -> list[Attachment]:
    form_service.require_read(user, case)
    return list(
        db.session.scalars(select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id))
    )


def open_for_download(user: User, case: Case, attachment_id: int) -> tuple[Attachment, Path]:
    """The attachment and its file; the download is written into the trail."""
    form_service.require_read(user, case)
    if not 0 < attachment_id <= MAX_ID:
        raise NotFound("No such attachment")
    item = db.session.scalar(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.case_id == case.id)
    )
    if item is None:
        raise NotFound("No such attachment")
    path = folder() / item.stored_name
    if not path.is_file():
        raise NotFound("The file of this attachment is missing")
    audit.add(
        case.id, "attachment_downloaded", actor=user, data={"attachment_id": item.id, "sha256": item.sha256}
    )
    db.session.commit()
    return item, path
