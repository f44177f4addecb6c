"""Every annex form printed through the API as PDF and DOCX, read back: the motto, the commune,
the number, and each value filled in, with its Vietnamese diacritics."""

from __future__ import annotations

import io
import re

import pytest
from docx import Document
from pypdf import PdfReader

from caseflow.workflow import current_engine, current_forms
from caseflow.workflow.forms import PERSON_PARTS, FormDef
from tests.api.test_branches import VERIFY_ABUSER, _decision

OFFICER = "officer_a@test.vn"
MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
CHILD_NAME = "Lò Thị Mẩy"


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _pdf_text(content: bytes) -> str:
    return _flat(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))


def _docx_text(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return _flat(" ".join(parts))


def _filled(form: FormDef) -> tuple[dict, list[str]]:
    """Data for every field of a form, and the texts the printed form must then show."""
    data: dict = {}
    expected: list[str] = []
    for i, spec in enumerate(form.fields):
        if spec.type == "text":
            value = "12/QĐ-UBND" if spec.name == form.number_field else f"Ghi chú {i} ở bản Nậm Ỷ"
            data[spec.name], shown = value, value
        elif spec.type == "date":
            data[spec.name], shown = "2026-11-2" + str(i % 10), f"2{i % 10}/11/2026"
        elif spec.type == "datetime":
            data[spec.name], shown = "2026-11-28T08:3" + str(i % 10) + ":00+07:00", f"08:3{i % 10} 28/11/2026"
        elif spec.type == "bool":
            data[spec.name], shown = True, "Có"
        elif spec.type == "number":
            data[spec.name], shown = 40 + i, str(40 + i)
        elif spec.type == "choice":
            option = spec.options[-1]
            data[spec.name], shown = option.value, option.label["vi"]
        elif spec.type == "choices":
            chosen = [spec.options[0], spec.options[-1]]
            data[spec.name], shown = [o.value for o in chosen], "; ".join(o.label["vi"] for o in chosen)
        elif spec.type == "person":
            person = {}
            for part in spec.parts:
                kind = PERSON_PARTS[part]
                if kind == "choice":
                    person[part] = "female"
                elif kind == "number":
                    person[part] = 9
                elif kind == "date":
                    person[part] = "2017-03-04"
                else:
                    person[part] = CHILD_NAME if part == "name" else f"Phần {part} số {i}"
            data[spec.name] = person
            shown = person.get("name") or next(iter(person.values()))
        else:  # rows
            row = {c.name: f"Dòng {i} cột {c.name} đầy đủ" for c in spec.fields if c.type == "text"}
            data[spec.name] = [row]
            shown = next(iter(row.values()))
        expected.append(str(shown))
    return data, expected


@pytest.fixture
def dossier(api, open_case):
    """A case with every form filled in through the API; returns the case and the expected texts."""
    case = open_case()
    expected = {}
    for form in current_forms().forms.values():
        data, texts = _filled(form)
        revision = 1 if form.code == "mau_01" else 0
        resp = api.put(
            f"/api/v1/cases/{case['id']}/forms/{form.code}",
            OFFICER if "officer" in form.roles else "chair_a@test.vn",
            json={"data": data, "revision": revision},
        )
        assert resp.status_code == 200, (form.code, resp.get_json())
        expected[form.code] = texts
    return case, expected


def test_every_form_prints_as_pdf_with_the_motto_the_commune_and_every_value(api, dossier):
    case, expected = dossier
    for code, texts in expected.items():
        resp = api.get(f"/api/v1/cases/{case['id']}/documents/{code}.pdf", OFFICER)
        assert resp.status_code == 200, code
        assert resp.mimetype == "application/pdf"
        text = _pdf_text(resp.data)
        for needed in (*MOTTO, "ỦY BAN NHÂN DÂN", "XÃ A", "Xã A, ngày", case["reference"], *texts):
            assert needed in text, (code, needed)
        if code in ("mau_05", "mau_07"):
            assert "Số: 12/QĐ-UBND" in text and "QUYẾT ĐỊNH" in text


def test_every_form_prints_as_docx_holding_the_same_values(api, dossier):
    case, expected = dossier
    for code, texts in expected.items():
        resp = api.get(f"/api/v1/cases/{case['id']}/documents/{code}.docx", OFFICER)
        assert resp.status_code == 200, code
        text = _docx_text(resp.data)
        for needed in (*MOTTO, "ỦY BAN NHÂN DÂN", "XÃ A", case["reference"], *texts):
            assert needed in text, (code, needed)


def test_the_dossier_holds_the_approval_forms_in_order_in_one_pdf(api, dossier):
    case, expected = dossier
    resp = api.get(f"/api/v1/cases/{case['id']}/documents/dossier.pdf", OFFICER)
    assert resp.status_code == 200
    text = _pdf_text(resp.data)
    titles = [
        current_forms().forms[c].title["vi"].upper()
        for c in ("mau_01", "mau_02", "mau_03", "needs_meeting", "mau_04", "mau_05")
    ]
    positions = [text.find(_flat(t)) for t in titles]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), positions
    assert current_forms().forms["mau_07"].title["vi"].upper() not in text
    assert len(PdfReader(io.BytesIO(resp.data)).pages) >= 6


def test_file_names_carry_the_case_reference_never_the_child_and_each_download_is_in_the_trail(api, dossier):
    case, _ = dossier
    resp = api.get(f"/api/v1/cases/{case['id']}/documents/mau_01.pdf", OFFICER)
    disposition = resp.headers["Content-Disposition"]
    assert f"{case['reference']}-mau_01.pdf" in disposition and "Mẩy" not in disposition
    api.get(f"/api/v1/cases/{case['id']}/documents/dossier.pdf", OFFICER)
    events = api.get(f"/api/v1/cases/{case['id']}/events", OFFICER).get_json()["items"]
    downloads = [e["data"]["document"] for e in events if e["kind"] == "document_downloaded"]
    assert downloads == ["mau_01.pdf", "dossier.pdf"]


def test_a_supervisor_gets_documents_without_the_identity_and_agency_staff_none(api, dossier, fire):
    case, _ = dossier
    case = api.get(f"/api/v1/cases/{case['id']}", OFFICER).get_json()
    verify = {"risk_level": "high", "serious_harm": True, "caregiver_is_abuser": False, "findings": "Có thật"}
    fire(case, "verify", OFFICER, verify)  # the police now work on the case, with a task
    resp = api.get(f"/api/v1/cases/{case['id']}/documents/mau_01.pdf", "supervisor_p@test.vn")
    assert resp.status_code == 200
    text = _pdf_text(resp.data)
    assert CHILD_NAME not in text and "Thông tin được bảo vệ" in text
    assert MOTTO[0] in text
    assert api.get(f"/api/v1/cases/{case['id']}/documents/mau_01.docx", "police_a@test.vn").status_code == 403
    assert api.get(f"/api/v1/cases/{case['id']}/documents/mau_01.docx", "police_b@test.vn").status_code == 404


def test_an_unknown_document_is_a_404(api, dossier):
    case, _ = dossier
    for name in ("mau_99.pdf", "mau_01.exe", "dossier", "..%2Fsecret_key"):
        assert api.get(f"/api/v1/cases/{case['id']}/documents/{name}", OFFICER).status_code == 404, name


def test_the_pdf_embeds_a_font_carrying_the_vietnamese_diacritics(api, dossier):
    case, _ = dossier
    resp = api.get(f"/api/v1/cases/{case['id']}/documents/mau_02.pdf", OFFICER)
    fonts = set()
    for page in PdfReader(io.BytesIO(resp.data)).pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert fonts and all("DejaVu-Serif" in name for name in fonts), fonts


@pytest.mark.parametrize("ground", ["caregiver_abuser", "plan_refused", "continued_risk"])
def test_the_separation_decision_and_its_printed_form_07_give_the_ground_in_the_decrees_words(
    api, open_case, fire, ground
):
    """Mẫu 07's ground is the `separate` trigger's list (Art. 32.1): one wording, on the form
    the chair fills, the decision recorded and the document printed."""
    grounds = current_engine().definition.lists["separation_grounds"]
    [field] = [f for f in current_forms().forms["mau_07"].fields if f.name == "ground"]
    assert [(o.value, o.label) for o in field.options] == [(c.code, c.label) for c in grounds.options]

    case = fire(open_case(), "verify", OFFICER, VERIFY_ABUSER)
    fire(case, "separate", "chair_a@test.vn", _decision(10, ground=ground))
    forms = api.get(f"/api/v1/cases/{case['id']}/forms", "chair_a@test.vn").get_json()["items"]
    [recorded] = [f for f in forms if f["code"] == "mau_07"]
    assert recorded["data"]["ground"] == ground
    for kind in ("pdf", "docx"):
        resp = api.get(f"/api/v1/cases/{case['id']}/documents/mau_07.{kind}", "chair_a@test.vn")
        assert resp.status_code == 200, kind
        text = _pdf_text(resp.data) if kind == "pdf" else _docx_text(resp.data)
        assert _flat(grounds.label(ground, "vi")) in text, (kind, text[:2000])
