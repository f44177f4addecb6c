"""List-of-rows fields (the minutes' participants, Mẫu 03's sources) printed as the annex prints
a table: its header, then the rows written, a blank cell and an empty table shown as the dotted
line the paper leaves to fill in; never a blank line."""

from __future__ import annotations

import io

import pytest
from docx import Document
from pypdf import PdfReader

from caseflow.extensions import db
from caseflow.models import FormRecord

OFFICER = "officer_a@test.vn"
DOTS = "......"
PARTICIPANTS_HEADER = "Họ và tên Cơ quan, tổ chức Chức vụ, vai trò"
MINUTES = {
    "held_at": "2026-11-30T09:00:00+07:00",
    "chaired_by": "Hoàng Văn Lâm",
    "child_views": "Cháu muốn ở với bà ngoại",
    "needs_agreed": "Khám sức khỏe",
}


def _pdf_lines(content: bytes) -> list[str]:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return text.split("\n")


def _docx_table(content: bytes, header: str) -> list[list[str]]:
    """The DOCX table whose first row is `header`, as the text of each cell."""
    for table in Document(io.BytesIO(content)).tables:
        rows = [[cell.text for cell in row.cells] for row in table.rows]
        if " ".join(rows[0]) == header:
            return rows
    raise AssertionError(f"no table headed {header!r}")


def _documents(api, case_id: int, code: str) -> tuple[list[str], bytes]:
    pdf = api.get(f"/api/v1/cases/{case_id}/documents/{code}.pdf", OFFICER)
    docx = api.get(f"/api/v1/cases/{case_id}/documents/{code}.docx", OFFICER)
    assert pdf.status_code == docx.status_code == 200
    return _pdf_lines(pdf.data), docx.data


def _after(lines: list[str], header: str) -> list[str]:
    start = lines.index(header)
    return lines[start + 1 : start + 3]


@pytest.fixture
def case_id(open_case) -> int:
    return open_case()["id"]


def test_blank_cells_of_a_written_row_print_as_dotted_lines(api, case_id):
    rows = [{"name": "Trần Thị Hoa"}, {"name": "Vi Văn Dũng", "body": "Công an xã"}]
    resp = api.put(
        f"/api/v1/cases/{case_id}/forms/needs_meeting",
        OFFICER,
        json={"data": {**MINUTES, "participants": rows}, "revision": 0},
    )
    assert resp.status_code == 200, resp.get_json()
    lines, docx = _documents(api, case_id, "needs_meeting")
    assert _after(lines, PARTICIPANTS_HEADER) == [
        f"Trần Thị Hoa {DOTS} {DOTS}",
        f"Vi Văn Dũng Công an xã {DOTS}",
    ]
    assert all(line.strip() for line in lines), "a blank line in the PDF"
    assert _docx_table(docx, PARTICIPANTS_HEADER)[1:] == [
        ["Trần Thị Hoa", DOTS, DOTS],
        ["Vi Văn Dũng", "Công an xã", DOTS],
    ]


def test_a_table_with_no_row_prints_its_header_and_one_dotted_row(api, case_id):
    data = {"assessed_on": "2026-11-30", "risks": "Bố dượng uống rượu", "conclusion": "Cần hỗ trợ"}
    resp = api.put(f"/api/v1/cases/{case_id}/forms/mau_03", OFFICER, json={"data": data, "revision": 0})
    assert resp.status_code == 200, resp.get_json()
    lines, docx = _documents(api, case_id, "mau_03")
    needs = lines.index("Nhu cầu Mức ưu tiên")
    assert lines[needs + 1] == f"{DOTS} {DOTS}"
    assert lines[needs + 2].startswith("Kết luận và đề xuất")  # the next field, no blank between
    assert "(chưa ghi)" not in " ".join(lines)
    assert all(line.strip() for line in lines), "a blank line in the PDF"
    assert _docx_table(docx, "Nhu cầu Mức ưu tiên") == [["Nhu cầu", "Mức ưu tiên"], [DOTS, DOTS]]
    sources = _docx_table(docx, "Người, cơ quan cung cấp Ngày Nội dung thông tin")
    assert sources[1:] == [[DOTS, DOTS, DOTS]]


def test_a_stored_row_with_nothing_in_it_is_not_printed(api, case_id):
    """Rows kept before empty ones were dropped on saving print only what they hold."""
    db.session.add(
        FormRecord(
            case_id=case_id,
            code="needs_meeting",
            revision=1,
            data={**MINUTES, "participants": [{}, {"name": "  "}, {"name": "Lường Thị Én"}, {"body": None}]},
            identity={},
        )
    )
    db.session.commit()
    lines, docx = _documents(api, case_id, "needs_meeting")
    assert _after(lines, PARTICIPANTS_HEADER)[0] == f"Lường Thị Én {DOTS} {DOTS}"
    assert not _after(lines, PARTICIPANTS_HEADER)[1].startswith(DOTS)
    assert _docx_table(docx, PARTICIPANTS_HEADER)[1:] == [["Lường Thị Én", DOTS, DOTS]]
