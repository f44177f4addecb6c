"""The annex forms as data: the shipped files declare every form of the contract, a province
adds a field in its own file without code, and a mistake is refused with its file and line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import caseflow.services.effects  # noqa: F401 - registers the names the workflow file uses
from caseflow.workflow.definition import WorkflowError, load_definition
from caseflow.workflow.forms import load_forms
from tests.conftest import ROOT

SHIPPED = ROOT / "workflows" / "decree56.yaml"
CODES = ["mau_01", "mau_02", "mau_03", "mau_04", "mau_05", "mau_06", "mau_07", "needs_meeting"]


def _load(path: Path):
    return load_forms(path, load_definition(path))


def _variant_dir(tmp_path: Path) -> Path:
    """A copy of the shipped workflow file and its forms folder, for a test to change."""
    shutil.copy(SHIPPED, tmp_path / "decree56.yaml")
    shutil.copytree(ROOT / "workflows" / "forms", tmp_path / "forms")
    return tmp_path / "decree56.yaml"


def test_the_shipped_file_declares_every_annex_form_with_vietnamese_and_english_labels():
    catalog = _load(SHIPPED)
    assert sorted(catalog.forms) == sorted(CODES)
    for form in catalog.forms.values():
        assert form.title["vi"] and form.title["en"]
        for spec in form.fields:
            assert spec.label["vi"] and spec.label["en"], (form.code, spec.name)


def test_mau_01_carries_the_fields_the_annex_asks_for():
    form = _load(SHIPPED).forms["mau_01"]
    names = {f.name for f in form.fields}
    assert {
        "report_number",
        "received_at",
        "medium",
        "informant",
        "child",
        "incident_address",
        "likely_consequences",
        "father",
        "mother",
        "caregiver",
        "actions_taken",
    } <= names
    assert form.field("father").parts == ("name", "age", "job")
    assert form.field("child").identity and form.field("informant").identity
    assert not form.field("what_happened").identity


def test_the_assessment_grids_grade_each_criterion_and_set_the_case_risk_level():
    catalog = _load(SHIPPED)
    for code in ("mau_02", "mau_06"):
        grid = catalog.forms[code].risk_grid
        assert grid is not None and len(grid.fields) >= 4 and grid.sets_case == "risk_level"
        levels = [o.value for o in catalog.forms[code].field(grid.result).options]
        assert levels == ["low", "medium", "high"]


def test_triggers_record_their_forms_and_intake_records_mau_01():
    catalog = _load(SHIPPED)
    assert {t: s.form for t, s in catalog.by_trigger.items()} == {
        "verify": "mau_02",
        "submit_plan": "mau_04",
        "approve_plan": "mau_05",
        "separate": "mau_07",
        "close": "mau_06",
    }
    assert dict(catalog.by_trigger["verify"].fields)["findings"] == "findings"
    assert catalog.intake.form == "mau_01"
    assert dict(catalog.intake.fields)["child.name"] == "child.full_name"


def test_a_province_adds_a_field_to_a_form_in_its_variant_without_code(tmp_path):
    path = _variant_dir(tmp_path)
    (tmp_path / "province").mkdir()
    (tmp_path / "province" / "mau_01.yaml").write_text(
        "code: mau_01\n"
        "add_fields:\n"
        "  - name: village_head_informed\n"
        "    type: bool\n"
        '    label: {vi: "Đã báo trưởng thôn", en: "Village head informed"}\n',
        encoding="utf-8",
    )
    text = path.read_text(encoding="utf-8").replace("files: [forms/]", "files: [forms/, province/]")
    path.write_text(text, encoding="utf-8")
    form = _load(path).forms["mau_01"]
    assert form.fields[-1].name == "village_head_informed"
    assert form.field("report_number") is not None  # the shipped fields stay


def _refused(path: Path, file: Path, match: str) -> None:
    with pytest.raises(WorkflowError) as info:
        _load(path)
    message = str(info.value)
    assert re.match(rf"^{re.escape(str(file))}:\d+: ", message), message
    assert int(message.split(":")[1]) > 0, message
    assert re.search(match, message), message


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ("type: number\n", "type: money\n", "type must be one of"),
        (
            "    type: choice\n    required: true\n",
            "    type: choice\n    required: true\n    options_from: nowhere\n",
            "options_from names no choice list",
        ),
        ("parts: [name, age, job]", "parts: [name, shoe_size]", "unknown person part"),
        ('label: {vi: "Cha", en: "Father"}', 'label: {vi: "Cha"}', "vi and en"),
    ],
)
def test_a_broken_form_file_is_refused_naming_its_file_and_line(tmp_path, old, new, match):
    path = _variant_dir(tmp_path)
    form_file = tmp_path / "forms" / "mau_01.yaml"
    text = form_file.read_text(encoding="utf-8")
    if old not in text:
        text = text.replace("    type: text\n", "    type: number\n", 1)
    form_file.write_text(text.replace(old, new, 1), encoding="utf-8")
    _refused(path, form_file, match)


def test_records_form_naming_an_unknown_form_is_refused(tmp_path):
    path = _variant_dir(tmp_path)
    text = path.read_text(encoding="utf-8").replace("records_form: mau_04", "records_form: mau_99")
    path.write_text(text, encoding="utf-8")
    _refused(path, path, "names no form 'mau_99'")


def test_a_mapping_from_a_field_the_trigger_does_not_have_is_refused(tmp_path):
    path = _variant_dir(tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        "records_form: mau_04", "records_form: {form: mau_04, fields: {goal: wishes}}"
    )
    path.write_text(text, encoding="utf-8")
    _refused(path, path, "'wishes' is neither a field of the trigger")
