"""Rendered documents kept in the cache: a second download is not laid out again, a new revision
or another reader's identity rights is another file, the files are encrypted, and each download
is still written into the trail."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import FormRecord
from caseflow.services import documents

OFFICER = "officer_a@test.vn"
SUPERVISOR = "supervisor_p@test.vn"
CHILD_NAME = "Bé Thử Nghiệm"


@pytest.fixture
def cache_dir(app, tmp_path):
    folder = tmp_path / "document-cache"
    app.config["CASEFLOW_DOCUMENT_CACHE_DIR"] = str(folder)
    return folder


@pytest.fixture
def renders(monkeypatch):
    """How many times each format was really rendered (the real renderers, counted)."""
    counts = {"pdf": 0, "docx": 0}
    real_pdf, real_docx = documents.render_pdf, documents.render_docx

    def pdf(pages):
        counts["pdf"] += 1
        return real_pdf(pages)

    def docx(pages):
        counts["docx"] += 1
        return real_docx(pages)

    monkeypatch.setattr(documents, "render_pdf", pdf)
    monkeypatch.setattr(documents, "render_docx", docx)
    return counts


def _text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _downloads(api, case_id: int) -> list[dict]:
    events = api.get(f"/api/v1/cases/{case_id}/events", OFFICER).get_json()["items"]
    return [e["data"] for e in events if e["kind"] == "document_downloaded"]


def test_a_second_download_comes_from_the_cache_and_is_still_in_the_trail(api, open_case, cache_dir, renders):
    case_id = open_case()["id"]
    url = f"/api/v1/cases/{case_id}/documents/dossier.pdf"
    first = api.get(url, OFFICER)
    second = api.get(url, OFFICER)
    assert first.status_code == second.status_code == 200
    assert second.data == first.data and renders["pdf"] == 1
    assert second.headers["Content-Disposition"] == first.headers["Content-Disposition"]
    api.get(f"/api/v1/cases/{case_id}/documents/mau_01.docx", OFFICER)
    api.get(f"/api/v1/cases/{case_id}/documents/mau_01.docx", OFFICER)
    assert renders["docx"] == 1
    assert [d["document"] for d in _downloads(api, case_id)] == ["dossier.pdf"] * 2 + ["mau_01.docx"] * 2


def test_the_cached_files_are_encrypted_and_named_without_the_child(api, open_case, cache_dir):
    case_id = open_case()["id"]
    api.get(f"/api/v1/cases/{case_id}/documents/mau_01.pdf", OFFICER)
    files = list((cache_dir / str(case_id)).iterdir())
    assert len(files) == 1 and files[0].name.startswith("mau_01.pdf.identity.")
    stored = files[0].read_bytes()
    assert b"%PDF" not in stored and CHILD_NAME.encode() not in stored


def test_a_new_revision_is_rendered_again_and_replaces_the_old_file(api, open_case, cache_dir, renders):
    case_id = open_case()["id"]
    url = f"/api/v1/cases/{case_id}/documents/dossier.pdf"
    api.get(url, OFFICER)
    data = {"assessed_on": "2026-11-30", "risks": "Bố dượng uống rượu", "conclusion": "Cần hỗ trợ tâm lý"}
    resp = api.put(f"/api/v1/cases/{case_id}/forms/mau_03", OFFICER, json={"data": data, "revision": 0})
    assert resp.status_code == 200, resp.get_json()
    resp = api.get(url, OFFICER)
    assert renders["pdf"] == 2 and "Cần hỗ trợ tâm lý" in _text(resp.data)
    assert len(list((cache_dir / str(case_id)).glob("dossier.pdf.identity.*"))) == 1


def test_a_reader_without_identity_rights_never_gets_the_cached_identity(api, open_case, cache_dir, renders):
    case_id = open_case()["id"]
    url = f"/api/v1/cases/{case_id}/documents/mau_01.pdf"
    assert CHILD_NAME in _text(api.get(url, OFFICER).data)
    supervisor = _text(api.get(url, SUPERVISOR).data)
    assert CHILD_NAME not in supervisor and "Thông tin được bảo vệ" in supervisor
    assert renders["pdf"] == 2
    assert CHILD_NAME not in _text(api.get(url, SUPERVISOR).data) and renders["pdf"] == 2
    assert CHILD_NAME in _text(api.get(url, OFFICER).data) and renders["pdf"] == 2
    assert [d["identity_shown"] for d in _downloads(api, case_id)] == [True, False, False, True]


def test_an_unreadable_cached_file_is_rendered_again(api, open_case, cache_dir, renders):
    case_id = open_case()["id"]
    url = f"/api/v1/cases/{case_id}/documents/mau_01.pdf"
    api.get(url, OFFICER)
    (cached,) = (cache_dir / str(case_id)).iterdir()
    cached.write_text(cached.read_text()[:-20] + "A" * 20)  # torn or altered: its tag fails
    resp = api.get(url, OFFICER)
    assert resp.status_code == 200 and CHILD_NAME in _text(resp.data) and renders["pdf"] == 2


def test_a_revision_id_handed_out_again_is_not_mistaken_for_the_cached_one(
    api, open_case, cache_dir, renders
):
    """After a restore from an older backup, ids are handed out again: the same id with other
    values and another moment is another document."""
    case_id = open_case()["id"]
    url = f"/api/v1/cases/{case_id}/documents/mau_03.pdf"
    data = {"assessed_on": "2026-11-30", "risks": "Bố dượng uống rượu", "conclusion": "Trước khi khôi phục"}
    api.put(f"/api/v1/cases/{case_id}/forms/mau_03", OFFICER, json={"data": data, "revision": 0})
    assert "Trước khi khôi phục" in _text(api.get(url, OFFICER).data)
    record = db.session.scalars(
        select(FormRecord).where(FormRecord.case_id == case_id, FormRecord.code == "mau_03")
    ).one()
    record_id = record.id
    db.session.delete(record)
    db.session.commit()
    db.session.add(
        FormRecord(
            id=record_id,
            case_id=case_id,
            code="mau_03",
            revision=1,
            data={**data, "conclusion": "Sau khi khôi phục"},
            identity={},
            recorded_at=record.recorded_at + timedelta(minutes=5),
        )
    )
    db.session.commit()
    text = _text(api.get(url, OFFICER).data)
    assert "Sau khi khôi phục" in text and "Trước khi khôi phục" not in text and renders["pdf"] == 2


def test_a_file_not_sealed_by_the_cache_is_not_served(api, open_case, cache_dir, renders):
    case_id = open_case()["id"]
    url = f"/api/v1/cases/{case_id}/documents/mau_01.pdf"
    real = api.get(url, OFFICER).data
    (cached,) = (cache_dir / str(case_id)).iterdir()
    cached.write_text(base64.b64encode(b"%PDF-1.7 planted").decode())  # plain, as if copied in
    resp = api.get(url, OFFICER)
    assert resp.data != b"%PDF-1.7 planted" and resp.data[:5] == real[:5] and renders["pdf"] == 2


def test_a_cache_that_cannot_be_written_still_gives_the_document(api, open_case, app, tmp_path, renders):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    app.config["CASEFLOW_DOCUMENT_CACHE_DIR"] = str(blocked)
    case_id = open_case()["id"]
    for _ in range(2):
        resp = api.get(f"/api/v1/cases/{case_id}/documents/mau_01.pdf", OFFICER)
        assert resp.status_code == 200 and CHILD_NAME in _text(resp.data)
    assert renders["pdf"] == 2
