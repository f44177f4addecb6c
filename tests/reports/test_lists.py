"""The workflow file's choice lists and report settings are checked when it loads, naming the line."""

from __future__ import annotations

from pathlib import Path

import pytest

import caseflow.services.effects  # noqa: F401 - registers the effects the file names
from caseflow.workflow.definition import WorkflowError, load_definition

SHIPPED = Path(__file__).resolve().parents[2] / "workflows" / "decree56.yaml"


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / "variant.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        (
            '    - {code: school, label: {vi: "Trường học", en: "School"}}\n',
            '    - {code: family, label: {vi: "Trường học", en: "School"}}\n',
            r"variant.yaml:\d+: harm_settings: code 'family' is repeated",
        ),
        (
            '    - {code: online, label: {vi: "Môi trường mạng", en: "Online"}}\n',
            '    - {code: online, label: {vi: "Môi trường mạng"}}\n',
            r"harm_settings.online: label needs both vi and en",
        ),
        (
            "harm_setting: {type: choice, list: harm_settings, store: column}",
            "harm_setting: {type: choice, list: harm_setings, store: column}",
            r"field 'harm_setting': unknown choice list 'harm_setings'",
        ),
        (
            "    records: {closure_outcome: unfounded}\n",
            "    records: {closure_outcome: baseless}\n",
            r"records: 'baseless' is not in closure_outcomes",
        ),
        ('      due: "05-15"\n', '      due: "05-35"\n', r"due must be a month-day"),
        (
            "  dismissed_outcome: unfounded\n",
            "  dismissed_outcome: nothing\n",
            r"dismissed_outcome must be a code",
        ),
        # The reports' ladder: the tasks' format, checked by the same parser; a report has no agency.
        (
            "        - {after: 1, notify: [commune_chair]}   #",
            "        - {after: 1, notify: [agency]}   #",
            r"variant.yaml:\d+: reports.escalation notify: unknown recipient 'agency'",
        ),
        ("      digest: false\n", "      digest: true\n", r"variant.yaml:\d+: .*digest must be false"),
        (
            '      due: "11-15"\n',
            '      due: "11-15"\n      clock: weeks\n',
            r"obligation 'annual': clock must be one of hours, working_days",
        ),
    ],
)
def test_a_wrong_list_or_report_setting_stops_the_load_naming_the_line(tmp_path, old, new, match):
    with pytest.raises(WorkflowError, match=match):
        load_definition(_variant(tmp_path, old, new))


def test_the_shipped_lists_and_reports_load():
    definition = load_definition(SHIPPED)
    lists = definition.lists
    assert len(lists["special_circumstance_groups"].codes) == 15
    assert lists["services"].options[0].group == "support"
    assert [o.code for o in lists.reports.obligations if o.enabled] == ["six_month", "annual"]
    assert lists.records["dismiss"] == {"closure_outcome": "unfounded"}
    close = {f.name: f for f in definition.transitions["close"].fields}
    assert close["services"].type == "choices" and "legal_aid" in close["services"].choices


def test_a_report_may_run_on_the_hours_ladder_its_file_declares(tmp_path):
    """`clock: hours` on an obligation: it climbs `reports.escalation.hours`, read like the tasks'."""
    from datetime import UTC, datetime, timedelta

    from caseflow.workflow.clock import WorkingCalendar

    variant = _variant(
        tmp_path,
        "  escalation:\n    working_days:\n      warn: [commune_staff]\n",
        "  escalation:\n    hours: {on_breach: [commune_chair], repeat_every_hours: 24, repeat: [supervisors]}\n"
        "    working_days:\n      warn: [commune_staff]\n",
    )
    text = variant.read_text(encoding="utf-8").replace(
        '      due: "05-15"\n', '      due: "05-15"\n      clock: hours\n'
    )
    variant.write_text(text, encoding="utf-8")
    settings = load_definition(variant).lists.reports
    assert settings.clock_of("six_month") == "hours" and settings.clock_of("annual") == "working_days"
    ladder, due = settings.escalation, datetime(2026, 5, 15, 16, 59, 59, tzinfo=UTC)
    calendar = WorkingCalendar()
    climbs = [
        ladder.climb("hours", due, seen, due + timedelta(hours=h), calendar) for seen, h in ((0, 1), (1, 25))
    ]
    assert [(c.target, c.steps) for c in climbs] == [(1, (1,)), (2, (2,))]
    assert ladder.recipients("hours", 1) == ("commune_chair",) and ladder.recipients("hours", 2) == (
        "supervisors",
    )
    assert ladder.warn("hours") == ("commune_staff",)  # the default where the file says nothing
