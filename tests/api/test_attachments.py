"""Attachments: real PDF, JPEG, PNG and DOCX files kept with their SHA-256; anything else, or
anything too large, refused with nothing stored; each download in the trail."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from docx import Document
from PIL import Image
from sqlalchemy import func, select

from caseflow.extensions import db
from caseflow.models import Attachment
from caseflow.services.attachments import folder
from tests.conftest import blank_pdf

OFFICER = "officer_a@test.vn"


def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def _docx() -> bytes:
    doc = Document()
    doc.add_paragraph("Biên bản đã ký")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _upload(
    api, case: dict, content: bytes, name: str = "Lò Thị Mẩy bằng chứng.pdf", as_: str = OFFICER, **fields
):
    data = {"file": (io.BytesIO(content), name), "kind": "evidence", **fields}
    return api.post(
        f"/api/v1/cases/{case['id']}/attachments", as_, data=data, content_type="multipart/form-data"
    )


def _stored_files() -> list[Path]:
    return [p for p in folder().rglob("*") if p.is_file()]


def _rows() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Attachment))


@pytest.mark.parametrize(
    ("make", "content_type"),
    [
        (blank_pdf, "application/pdf"),
        (lambda: _image("JPEG"), "image/jpeg"),
        (lambda: _image("PNG"), "image/png"),
        (_docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ],
)
def test_a_real_file_is_kept_with_its_sha256_and_named_by_the_case(api, open_case, make, content_type):
    case = open_case()
    content = make()
    resp = _upload(api, case, content, kind="signed_form", form_code="mau_05", description="Bản có dấu")
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["content_type"] == content_type and body["size"] == len(content)
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["filename"].startswith(f"{case['reference']}-mau_05-") and "Mẩy" not in body["filename"]
    assert body["kind"] == "signed_form" and body["form_code"] == "mau_05"
    listed = api.get(f"/api/v1/cases/{case['id']}/attachments", OFFICER).get_json()["items"]
    assert [a["sha256"] for a in listed] == [body["sha256"]]


def test_a_download_gives_the_same_bytes_and_is_in_the_trail(api, open_case):
    case = open_case()
    content = blank_pdf()
    attachment = _upload(api, case, content).get_json()
    resp = api.get(f"/api/v1/cases/{case['id']}/attachments/{attachment['id']}", OFFICER)
    assert resp.status_code == 200 and resp.data == content
    assert attachment["filename"] in resp.headers["Content-Disposition"]
    events = api.get(f"/api/v1/cases/{case['id']}/events", OFFICER).get_json()["items"]
    assert [e["data"]["attachment_id"] for e in events if e["kind"] == "attachment_downloaded"] == [
        attachment["id"]
    ]
    supervisor = api.get(f"/api/v1/cases/{case['id']}/attachments/{attachment['id']}", "supervisor_p@test.vn")
    assert supervisor.status_code == 200


def test_the_files_live_outside_the_web_root_in_the_configured_folder(app, api, open_case):
    case = open_case()
    _upload(api, case, blank_pdf())
    [stored] = _stored_files()
    assert stored.is_relative_to(Path(app.instance_path))
    assert not stored.is_relative_to(Path(app.static_folder))
    assert app.test_client().get(f"/static/{stored.name}").status_code == 404


def test_a_file_over_20_mb_is_a_413_and_nothing_is_stored(api, open_case):
    case = open_case()
    resp = _upload(api, case, b"%PDF-1.4\n" + b"0" * (21 * 1024 * 1024))
    assert resp.status_code == 413
    assert resp.get_json()["error"]["code"] == "too_large"
    assert _rows() == 0 and _stored_files() == []


@pytest.mark.parametrize(
    "content",
    [
        b"MZ\x90\x00 a Windows program dressed as a PDF",
        b"<html><script>alert(1)</script></html>",
        b"",
    ],
)
def test_a_disguised_file_is_a_415_and_nothing_is_stored(api, open_case, content):
    case = open_case()
    resp = _upload(api, case, content, name="bien_ban.pdf")
    assert resp.status_code == 415
    assert resp.get_json()["error"]["code"] == "unsupported_media_type"
    assert _rows() == 0 and _stored_files() == []


def test_a_zip_that_is_not_a_word_document_is_a_415(api, open_case):
    case = open_case()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.txt", "not a document")
    assert _upload(api, case, out.getvalue(), name="x.docx").status_code == 415
    assert _rows() == 0 and _stored_files() == []


def test_bad_fields_are_a_422_naming_them(api, open_case):
    case = open_case()
    resp = _upload(api, case, blank_pdf(), kind="selfie", form_code="mau_99")
    assert resp.status_code == 422
    assert set(resp.get_json()["error"]["fields"]) == {"kind", "form_code"}
    resp = api.post(f"/api/v1/cases/{case['id']}/attachments", OFFICER, data={"kind": "evidence"})
    assert resp.status_code == 422 and "file" in resp.get_json()["error"]["fields"]
    assert _rows() == 0


def test_only_the_cases_communes_attach_files_and_agency_staff_do_not_see_them(api, open_case, fire):
    case = open_case()
    attachment = _upload(api, case, blank_pdf()).get_json()
    assert _upload(api, case, blank_pdf(), as_="supervisor_p@test.vn").status_code == 403
    assert _upload(api, case, blank_pdf(), as_="officer_b@test.vn").status_code == 404
    case = api.get(f"/api/v1/cases/{case['id']}", OFFICER).get_json()
    verify = {"risk_level": "high", "serious_harm": True, "caregiver_is_abuser": False, "findings": "Có"}
    fire(case, "verify", OFFICER, verify)
    assert api.get(f"/api/v1/cases/{case['id']}/attachments", "police_a@test.vn").status_code == 403
    url = f"/api/v1/cases/{case['id']}/attachments/{attachment['id']}"
    assert api.get(url, "police_a@test.vn").status_code == 403
    assert api.get(f"/api/v1/cases/{case['id']}/attachments/99999", OFFICER).status_code == 404
