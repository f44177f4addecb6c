"""A province adds a field to Mẫu 01 in its own file: with no code change and no migration the
API takes it, keeps it, lists it, and the printed form shows it."""

from __future__ import annotations

import io
import re
import shutil

import pytest
from pypdf import PdfReader

from tests.conftest import ROOT

EXTRA = """code: mau_01
add_fields:
  - name: village_head_informed
    type: bool
    label: {vi: "Đã báo trưởng thôn bản", en: "Village head informed"}
  - name: village
    type: text
    label: {vi: "Thôn, bản", en: "Village"}
"""


@pytest.fixture
def app_config(tmp_path):
    variant = tmp_path / "variant"
    variant.mkdir()
    text = (ROOT / "workflows" / "decree56.yaml").read_text(encoding="utf-8")
    (variant / "decree56.yaml").write_text(text.replace("files: [forms/]", "files: [forms/, province/]"))
    shutil.copytree(ROOT / "workflows" / "forms", variant / "forms")
    (variant / "province").mkdir()
    (variant / "province" / "mau_01.yaml").write_text(EXTRA, encoding="utf-8")
    return {"CASEFLOW_WORKFLOW": str(variant / "decree56.yaml")}


def test_a_field_added_in_a_variant_is_kept_listed_and_printed(api, open_case):
    fields = next(
        f for f in api.get("/api/v1/forms", "officer_a@test.vn").get_json()["items"] if f["code"] == "mau_01"
    )
    assert [f["name"] for f in fields["fields"]][-2:] == ["village_head_informed", "village"]
    case = open_case()
    data = {"received_at": "2026-11-30T08:00:00+07:00", "channel": "police", "what_happened": "Đánh trẻ"}
    resp = api.put(
        f"/api/v1/cases/{case['id']}/forms/mau_01",
        "officer_a@test.vn",
        json={"data": {**data, "village_head_informed": True, "village": "Bản Nà Phặc"}, "revision": 1},
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["data"]["village"] == "Bản Nà Phặc"
    bad = api.put(
        f"/api/v1/cases/{case['id']}/forms/mau_01",
        "officer_a@test.vn",
        json={"data": {**data, "village_head_informed": "có"}, "revision": 2},
    )
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"data.village_head_informed"}
    pdf = api.get(f"/api/v1/cases/{case['id']}/documents/mau_01.pdf", "officer_a@test.vn")
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages))
    assert "Đã báo trưởng thôn bản: Có" in text and "Thôn, bản: Bản Nà Phặc" in text
