"""The procedure as data: the loader refuses broken files naming the line, the shipped file
covers the contract, and a province's variant changes deadlines without code."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

import caseflow.services.effects  # noqa: F401 - registers the names the files use
from caseflow import create_app
from caseflow.workflow import current_engine
from caseflow.workflow.definition import WorkflowError, load_definition
from caseflow.workflow.engine import engine_for
from tests.conftest import ROOT, TEST_CONFIG

SHIPPED = ROOT / "workflows" / "decree56.yaml"
VERIFY_MILD = {"risk_level": "low", "serious_harm": False, "caregiver_is_abuser": False, "findings": "ok"}

# The contract's table: trigger -> (sources, dest, roles); None dest: the state does not change.
OPEN_STATES = ["received", "verified", "planned", "intervention", "follow_up"]
CONTRACT = {
    "verify": (["received"], "verified", ["officer", "chair"]),
    "dismiss": (["received"], "closed", ["officer", "chair"]),
    "submit_plan": (["verified"], "planned", ["officer"]),
    "approve_plan": (["planned"], "intervention", ["chair"]),
    "reject_plan": (["planned"], "verified", ["chair"]),
    "start_follow_up": (["intervention"], "follow_up", ["officer"]),
    "revise_plan": (["follow_up"], "verified", ["officer"]),
    "close": (["follow_up"], "closed", ["chair"]),
    "reopen": (["closed"], "received", ["officer", "chair"]),
    "handover": (OPEN_STATES, None, ["officer", "chair"]),
}


POLICE_EMERGENCY = '    agency_kind: police\n    commune: incident\n    deadline: {hours: 12, from: received_at}\n    basis: "Nghị định 56/2017/NĐ-CP, Điều 26.3, 31"\n'


def _variant(tmp_path: Path, old: str, new: str, name: str = "broken.yaml") -> tuple[Path, int]:
    """The shipped file with `old` (which must occur once) replaced; returns the path and
    the 1-based line where the replacement starts."""
    text = SHIPPED.read_text(encoding="utf-8")
    # Matched from a line's start, so "    office_hours:" is not also found inside a deeper
    # "      office_hours:" (the reports' ladder).
    found = [m.start() for m in re.finditer("^" + re.escape(old), text, re.MULTILINE)]
    assert len(found) == 1, old
    index = found[0]
    path = tmp_path / name
    path.write_text(text[:index] + new + text[index + len(old) :], encoding="utf-8")
    return path, text[:index].count("\n") + 1


def _refused(path: Path, *, near: int, within: int = 12, match: str) -> str:
    """Load must fail; the message names the file and a line at most `within` lines above `near`
    (the start of the block holding the mistake) and no later than it."""
    with pytest.raises(WorkflowError) as info:
        load_definition(path)
    message = str(info.value)
    found = re.match(rf"^{re.escape(str(path))}:(\d+): ", message)
    assert found, message
    assert near - within <= int(found.group(1)) <= near, message
    assert re.search(match, message), message
    return message


def test_shipped_definition_loads(tmp_path):
    definition = load_definition(SHIPPED)
    assert definition.name == "decree56" and definition.initial == "received"
    assert [s for s, d in definition.states.items() if d.terminal] == ["closed"]


def test_unknown_dest_state_is_refused_with_its_line(tmp_path):
    path, line = _variant(tmp_path, "    dest: planned\n", "    dest: plannned\n")
    _refused(path, near=line, match="unknown dest state 'plannned'")


def test_unknown_source_state_is_refused_with_its_line(tmp_path):
    path, line = _variant(
        tmp_path,
        "    source: [planned]\n    dest: intervention\n",
        "    source: [planed]\n    dest: intervention\n",
    )
    _refused(path, near=line, match="unknown source state 'planed'")


def test_unreachable_state_is_refused_with_its_line(tmp_path):
    path, line = _variant(
        tmp_path, "  - name: closed\n", "  - name: limbo\n    label: Limbo\n  - name: closed\n"
    )
    _refused(path, near=line, within=0, match="state 'limbo' is unreachable")


def test_task_for_an_unknown_agency_kind_is_refused_with_its_line(tmp_path):
    path, line = _variant(tmp_path, POLICE_EMERGENCY, POLICE_EMERGENCY.replace("police", "polise"))
    _refused(path, near=line, match="unknown agency kind 'polise'")


def test_unknown_role_is_refused_with_its_line(tmp_path):
    path, line = _variant(
        tmp_path,
        "    roles: [chair]\n    completes: [approve_plan]\n",
        "    roles: [chairman]\n    completes: [approve_plan]\n",
    )
    _refused(path, near=line, match="unknown role 'chairman'")


def test_unknown_field_type_is_refused_with_its_line(tmp_path):
    path, line = _variant(
        tmp_path,
        "      plan: {type: text, required: true, store: column, column: plan, key: text}\n",
        "      plan: {type: essay, required: true, store: column, column: plan, key: text}\n",
    )
    _refused(path, near=line, match="field 'plan': type must be one of")


def test_transition_creating_an_unknown_task_is_refused_with_its_line(tmp_path):
    path, line = _variant(tmp_path, "      - task: emergency_health\n", "      - task: emergency_dentist\n")
    _refused(path, near=line, match="unknown task 'emergency_dentist'")


def test_transition_completing_an_unknown_task_is_refused_with_its_line(tmp_path):
    path, line = _variant(tmp_path, "    completes: [draft_plan]\n", "    completes: [draft_plans]\n")
    _refused(path, near=line, match="draft_plans")


def test_state_with_an_unknown_task_is_refused_with_its_line(tmp_path):
    path, line = _variant(tmp_path, "    tasks: [review]\n", "    tasks: [reveiw]\n")
    _refused(path, near=line, match="unknown task 'reveiw'")


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        # A scalar where a list belongs must not read as a list of letters ("unknown role 'c'").
        (
            "    roles: [chair]\n    completes: [approve_plan]\n",
            "    roles: chair\n    completes: [approve_plan]\n",
            "roles must be a list",
        ),
        (
            "    source: [planned]\n    dest: intervention\n",
            "    source: planned\n    dest: intervention\n",
            "source .* must be a list",
        ),
        ("    tasks: [review]\n", "    tasks: review\n", "tasks must be a list"),
        ("    guards: [no_open_measures]\n", "    guards: no_open_measures\n", "guards must be a list"),
        # Wrong shapes that used to crash the loader with AttributeError.
        (
            "  - trigger: reopen\n",
            "  - reopen\n  - trigger: reopen\n",
            "each of transitions must be a mapping",
        ),
        (
            "      - task: plan_measure\n        for_each: measures\n",
            "      - plan_measure\n",
            "each of creates must be a mapping",
        ),
        (
            "    fields:\n      no_longer_at_risk: {type: bool, required: true, must_be: true, store: trail}\n",
            "    fields: [no_longer_at_risk]\n    xfields:\n      no_longer_at_risk: {type: bool}\n",
            "fields must be a mapping",
        ),
        # The ladder of each clock (escalation:), checked like the rest of the file.
        (
            "    repeat_every_hours: 4\n",
            "    repeat_every_hours: often\n",
            "repeat_every_hours must be a number",
        ),
        ("    warn_before_hours: 3\n", "    warn_before: 3\n", "unknown key 'warn_before'"),
        (
            "      - {after: 3, notify: [supervisors]}\n",
            "      - {after: 3, notify: [mayor]}\n",
            "unknown recipient",
        ),
        (
            "      - {after: 1, notify: [commune_chair]}\n",
            "      - {after: 5, notify: [commune_chair]}\n",
            "in order",
        ),
        (
            "      - {after: 0, notify: [agency]}\n",
            "      - {after: 0.5, notify: [agency]}\n",
            "whole number",
        ),
        (
            '    office_hours: "07:00-17:00"\n',
            '    office_hours: "17:00-07:00"\n',
            "must end after they start",
        ),
        ('    office_hours: "07:00-17:00"\n', '    office_hours: "morning"\n', "must look like 07:00-17:00"),
        ("    digest: true\n", "    digest: sometimes\n", "digest must be true or false"),
        # A plan-measure task anywhere but `for_each: measures` would fail at run time, case by case.
        ("        for_each: measures\n", "        for_each: measure\n", "for_each can only be measures"),
        ("    tasks: [review]\n", "    tasks: [plan_measure]\n", "takes its agency from a plan measure"),
    ],
)
def test_wrong_shapes_are_refused_with_the_line_not_a_crash(tmp_path, old, new, match):
    path, line = _variant(tmp_path, old, new)
    _refused(path, near=line + 1, within=15, match=match)


def test_unreadable_or_invalid_yaml_is_refused_naming_the_file(tmp_path):
    with pytest.raises(WorkflowError, match=re.escape(str(tmp_path / "missing.yaml"))):
        load_definition(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("states: [\n", encoding="utf-8")
    with pytest.raises(WorkflowError, match=re.escape(str(bad))):
        load_definition(bad)


def test_app_refuses_to_start_on_a_broken_definition(tmp_path):
    path, _ = _variant(tmp_path, POLICE_EMERGENCY, POLICE_EMERGENCY.replace("police", "polise"))
    with pytest.raises(WorkflowError, match="polise"):
        create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://", "CASEFLOW_WORKFLOW": str(path)})


def test_every_contract_trigger_is_in_the_shipped_definition_as_the_contract_says():
    definition = load_definition(SHIPPED)
    for state in ("received", "verified", "planned", "intervention", "follow_up", "closed"):
        assert state in definition.states
    for trigger, (source, dest, roles) in CONTRACT.items():
        t = definition.transitions[trigger]
        assert sorted(t.source) == sorted(source), trigger
        assert t.dest == dest, trigger
        assert sorted(t.roles) == sorted(roles), trigger


def test_shipped_task_rules_match_the_decree():
    tasks = load_definition(SHIPPED).tasks
    for task_id in ("verify_report", "emergency_police", "emergency_health"):
        assert tasks[task_id].deadline.describe() == "hours: 12 from received_at", task_id
    assert tasks["emergency_police"].agency_kind == "police"
    assert tasks["emergency_health"].agency_kind == "health"
    assert tasks["verify_report"].commune == tasks["emergency_police"].commune == "incident"
    assert tasks["draft_plan"].deadline.describe() == "working_days: 5 from entered"


def test_workflow_endpoint_serves_the_loaded_definition(api, world):
    resp = api.get("/api/v1/workflow", "officer_a@test.vn")
    assert resp.status_code == 200
    body = resp.get_json()
    definition = load_definition(SHIPPED)
    assert (body["name"], body["version"]) == (definition.name, definition.version)
    assert [(s["name"], s["terminal"]) for s in body["states"]] == [
        (s.name, s.terminal) for s in definition.states.values()
    ]
    assert all(s["label"] for s in body["states"])
    served = {t["trigger"]: (sorted(t["source"]), t["dest"], sorted(t["roles"])) for t in body["transitions"]}
    for trigger, (source, dest, roles) in CONTRACT.items():
        assert served[trigger] == (sorted(source), dest, sorted(roles))
    assert set(served) == set(definition.transitions)


def test_one_machine_is_shared_by_every_case(app, open_case, fire):
    engine = current_engine()
    assert engine is engine_for(app.config["CASEFLOW_WORKFLOW"])
    other_app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert other_app.extensions["caseflow_engine"] is engine
    machine = engine.machine
    for _ in range(3):
        fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    assert current_engine().machine is machine
    # The Machine holds no case: cases are passed in when a trigger fires, never added as models.
    assert [m for m in machine.models if m is not machine] == []


# -- a province's variant: another file, no code change -----------------------------------


@pytest.fixture(scope="module")
def variant_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("variant")
    text = SHIPPED.read_text(encoding="utf-8")
    old = "    deadline: {working_days: 5, from: entered}\n"
    assert text.count(old) == 1
    path = folder / "province_variant.yaml"
    path.write_text(
        text.replace(old, "    deadline: {working_days: 3, from: entered}\n").replace(
            'version: "2017.1"', 'version: "2017.1-ls"'
        ),
        encoding="utf-8",
    )
    return path


class TestProvinceVariant:
    @pytest.fixture
    def app_config(self, variant_file):
        return {"CASEFLOW_WORKFLOW": str(variant_file)}

    def test_variant_with_three_working_days_sets_the_draft_plan_deadline(self, api, open_case, fire):
        assert api.get("/api/v1/workflow", "officer_a@test.vn").get_json()["version"] == "2017.1-ls"
        case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
        [draft] = [t for t in case["tasks"] if t["kind"] == "draft_plan"]
        assert draft["rule"] == "working_days: 3 from entered"
        three = api.get(
            "/api/v1/calendar/due",
            "officer_a@test.vn",
            query_string={"start": case["state_entered_at"], "working_days": 3},
        ).get_json()
        five = api.get(
            "/api/v1/calendar/due",
            "officer_a@test.vn",
            query_string={"start": case["state_entered_at"], "working_days": 5},
        ).get_json()
        assert datetime.fromisoformat(draft["due_at"]) == datetime.fromisoformat(three["due_at"])
        assert datetime.fromisoformat(draft["due_at"]) < datetime.fromisoformat(five["due_at"])
