"""Guards and effects are named in the workflow file and checked against the registry; each
field says where it is kept (`store: column | data | trail`), and the loader checks that too."""

from __future__ import annotations

from pathlib import Path

import pytest

import caseflow.services.effects  # noqa: F401 - registers the names the files use
from caseflow.extensions import db
from caseflow.models import Case
from caseflow.workflow import registry
from caseflow.workflow.definition import WorkflowError, load_definition
from tests.conftest import ROOT

SHIPPED = ROOT / "workflows" / "decree56.yaml"
VERIFY_MILD = {"risk_level": "low", "serious_harm": False, "caregiver_is_abuser": False, "findings": "ok"}
FINDINGS = "      findings: {type: text, required: true, store: column}\n"


def _variant(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    text = SHIPPED.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / "variant.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path, text[: text.index(old)].count("\n") + 1


def _refused(path: Path, line: int, match: str) -> None:
    with pytest.raises(WorkflowError, match=match) as exc:
        load_definition(path)
    assert f"{path}:{line}:" in str(exc.value)


def test_an_unknown_effect_is_refused_naming_its_file_and_line(tmp_path):
    path, line = _variant(tmp_path, "    effects: [hand_over]\n", "    effects: [hand_ovre]\n")
    _refused(path, line, "unknown effect 'hand_ovre'")


def test_an_unknown_guard_is_refused_naming_its_file_and_line(tmp_path):
    path, line = _variant(
        tmp_path,
        "    guards: [no_open_measures]\n",
        "    guards:\n      - no_open_measures\n      - full_moon\n",
    )
    _refused(path, line + 2, "unknown guard 'full_moon'")


def test_a_column_the_cases_table_lacks_is_refused(tmp_path):
    path, line = _variant(
        tmp_path, FINDINGS, "      findings: {type: text, required: true, store: column, column: findigns}\n"
    )
    _refused(path, line, "cases has no column 'findigns'")


def test_a_field_may_not_overwrite_a_column_the_procedure_keeps(tmp_path):
    path, line = _variant(tmp_path, FINDINGS, "      state: {type: text, required: true, store: column}\n")
    _refused(path, line, "column 'state' is kept by the procedure itself")


def test_a_json_column_needs_a_key_and_a_plain_column_refuses_one(tmp_path):
    path, line = _variant(tmp_path, FINDINGS, "      findings: {type: text, store: column, column: plan}\n")
    _refused(path, line, "give the key")
    path, line = _variant(tmp_path, FINDINGS, "      findings: {type: text, store: column, key: x}\n")
    _refused(path, line, "key needs a JSON column")


def test_an_unknown_store_is_refused(tmp_path):
    path, line = _variant(tmp_path, FINDINGS, "      findings: {type: text, store: attic}\n")
    _refused(path, line, "store must be one of column, data, trail")


def test_the_shipped_file_declares_where_its_fields_are_kept():
    definition = load_definition(SHIPPED)
    reopen = definition.transitions["reopen"].fields[0]
    assert reopen.store == "trail"  # declared so
    spec = next(f for f in definition.transitions["verify"].fields if f.name == "findings")
    assert (spec.store, spec.column, spec.key) == ("column", "findings", None)
    plan = next(f for f in definition.transitions["submit_plan"].fields if f.name == "measures")
    assert (plan.store, plan.column, plan.key) == ("column", "plan", "measures")


@pytest.fixture
def with_extra_fields(tmp_path):
    """The shipped file with an undeclared-store field on verify, a trail-only one, and an
    effect registered by this test module."""
    text = SHIPPED.read_text(encoding="utf-8")
    extra = (
        FINDINGS
        + "      school_informed: {type: bool}\n"
        + "      interview_notes: {type: text, store: trail}\n"
    )
    text = text.replace(FINDINGS, extra, 1)
    text = text.replace(
        "    completes: [verify]\n    # Art. 26.3",
        "    completes: [verify]\n    effects: [test_mark]\n    # Art. 26.3",
        1,
    )
    path = tmp_path / "extra.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@registry.effect("test_mark")
def _test_mark(run, transition) -> None:
    """An effect only these tests name: it proves the registry's effects run inside the transition."""
    run.values["_marked"] = True
    run.change(run.case, police_case_number=f"marked-by-{transition.trigger}")


class TestStorage:
    @pytest.fixture
    def app_config(self, with_extra_fields):
        return {"CASEFLOW_WORKFLOW": str(with_extra_fields)}

    def test_fields_go_where_the_file_says_and_effects_run(self, api, open_case, fire, app):
        case = open_case()
        body = fire(
            case,
            "verify",
            "officer_a@test.vn",
            {**VERIFY_MILD, "school_informed": True, "interview_notes": "seen at school"},
        )
        assert body["data"] == {"school_informed": True}  # `store` left out: the case's data
        assert body["findings"] == "ok" and body["risk_level"] == "low"  # store: column
        assert body["police_case_number"] == "marked-by-verify"  # the effect's change was written
        db.session.expire_all()
        row = db.session.get(Case, case["id"])
        assert row.data == {"school_informed": True}
        assert row.police_case_number == "marked-by-verify"
        events = api.get(f"/api/v1/cases/{case['id']}/events", "officer_a@test.vn").get_json()
        [transition] = [e for e in events["items"] if e["kind"] == "transition"]
        assert transition["data"]["interview_notes"] == "seen at school"  # store: trail
        assert "_marked" not in transition["data"]
        got = api.get(f"/api/v1/cases/{case['id']}", "officer_a@test.vn").get_json()
        assert got["data"] == {"school_informed": True}
        assert "interview_notes" not in got["data"]

    def test_a_later_trigger_merges_into_the_data_without_losing_earlier_fields(self, api, open_case, fire):
        case = fire(open_case(), "verify", "officer_a@test.vn", {**VERIFY_MILD, "school_informed": False})
        assert case["data"] == {"school_informed": False}
        case = fire(case, "handover", "officer_a@test.vn", {"residence_commune": "B"})
        assert case["data"] == {"school_informed": False}
        assert case["residence_commune"] == "B"


def test_handing_over_to_the_commune_the_case_already_has_is_a_422_naming_the_field(api, open_case):
    case = open_case()
    resp = api.post(
        f"/api/v1/cases/{case['id']}/transitions",
        "officer_a@test.vn",
        json={"trigger": "handover", "version": case["version"], "data": {"residence_commune": "A"}},
    )
    assert resp.status_code == 422
    assert "data.residence_commune" in resp.get_json()["error"]["fields"]
    again = api.get(f"/api/v1/cases/{case['id']}", "officer_a@test.vn").get_json()
    assert again["version"] == case["version"] and again["residence_commune"] == "A"
