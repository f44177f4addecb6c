"""A trigger's fields and their choices read in words on the case page, from the workflow file:
the field labels and the choice lists' labels are the definition's, the case columns' own codes
(risk) the catalogs'."""

from __future__ import annotations

import re

import pytest

from caseflow.workflow import current_engine
from caseflow.workflow.definition import WorkflowError, load_definition
from tests.conftest import ROOT


def test_every_field_of_the_shipped_workflow_has_a_label_in_both_languages(app):
    definition = current_engine().definition
    specs = [(t.trigger, s) for t in definition.transitions.values() for s in t.fields]
    specs += [("intake", s) for s in definition.intake.fields]
    unlabelled = [
        f"{where}.{spec.name}"
        for where, spec in specs
        if not (spec.label.get("vi") and spec.label.get("en")) or "_" in spec.label["vi"] + spec.label["en"]
    ]
    assert not unlabelled


def _verify_form(page: str) -> str:
    match = re.search(r'<details class="action" id="action-verify".*?</details>', page, re.S)
    assert match, "no verify form on the case page"
    return match.group(0)


def test_the_verify_form_names_its_fields_and_their_choices_in_words(web, open_case):
    case = open_case()
    form = _verify_form(web("officer_a").text(f"/cases/{case['id']}"))
    # Field labels from the workflow file, a field the old Python table never had included.
    assert "Mức độ nguy cơ" in form and "Môi trường bị xâm hại" in form
    assert "harm setting" not in form and "perpetrator relation" not in form
    # A list-bound field's choices are the list's labels; the risk column's are the catalog's.
    assert ">Gia đình</option>" in form and ">family</option>" not in form
    assert ">Cao</option>" in form and ">high</option>" not in form


def test_the_separation_ground_reads_from_its_choice_list(web, open_case, fire):
    verified = fire(
        open_case(),
        "verify",
        "officer_a@test.vn",
        {"risk_level": "high", "serious_harm": False, "caregiver_is_abuser": True, "findings": "F"},
    )
    ground = current_engine().definition.lists["separation_grounds"].label("plan_refused", "vi")
    page = web("chair_a").text(f"/cases/{verified['id']}")
    assert f">{ground}</option>" in page and ">plan_refused</option>" not in page


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ("  cancel: {vi:", "  cancle: {vi:", "field_labels: no trigger has a field 'cancle'"),
        (
            '  until: {vi: "Cách ly đến ngày", en: "Separated until"}',
            '  until: {vi: "Cách ly đến ngày"}',
            "'until' needs",
        ),
    ],
)
def test_a_field_label_for_no_field_or_in_one_language_stops_the_load(tmp_path, old, new, why):
    text = (ROOT / "workflows" / "decree56.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "decree56.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    (tmp_path / "forms").symlink_to(ROOT / "workflows" / "forms")
    with pytest.raises(WorkflowError, match=re.escape(why)) as raised:
        load_definition(path)
    assert str(path) in str(raised.value)


def test_integrations_read_the_same_labels_from_the_workflow_document(api, world):
    workflow = api.get("/api/v1/workflow", "officer_a@test.vn").get_json()
    [verify] = [t for t in workflow["transitions"] if t["trigger"] == "verify"]
    fields = {f["name"]: f for f in verify["fields"]}
    assert fields["harm_setting"]["labels"] == {"vi": "Môi trường bị xâm hại", "en": "Setting of the harm"}
    assert fields["harm_setting"]["choice_list"] == "harm_settings"
    assert "harm_settings" in workflow["choice_lists"]
