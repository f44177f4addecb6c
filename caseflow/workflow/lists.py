"""The workflow file's choice lists and report settings, checked when the file is loaded.

The figures of the periodic reports (setting of the harm, ethnicity, the 14 groups of Law on
Children Art. 10, services, closure outcomes...) are counted by code; the codes and the labels
people read are data in the workflow file, so a province's variant changes a list in one place.
A list named by a trigger field (`list: NAME`), a constant a trigger records (`records:`) or a
report setting that names something absent stops the app at start-up with the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from caseflow.workflow.errors import WorkflowError
from caseflow.workflow.ladder import (
    CLOCKS,
    RECIPIENTS,
    EscalationRules,
    HoursLadder,
    LadderError,
    Level,
    WorkingDaysLadder,
    parse_escalation,
)

# Lists the reports count by; a workflow file may add others but not leave these out.
REQUIRED_LISTS = (
    "harm_settings",
    "perpetrator_relations",
    "ethnicities",
    "disabilities",
    "special_circumstance_groups",
    "services",
    "closure_outcomes",
)
# The case and child columns a list-bound value is kept in (migration 0011), and their list.
CASE_COLUMNS = {
    "harm_setting": "harm_settings",
    "perpetrator_relation": "perpetrator_relations",
    "special_group": "special_circumstance_groups",
    "closure_outcome": "closure_outcomes",
    "services": "services",
}
CHILD_COLUMNS = {"ethnicity": "ethnicities", "disability": "disabilities"}
TASK_ROLES = ("verify", "emergency", "plan")
# A report has no agency: its ladder names the commune that owes it and the units above.
OBLIGATION_RECIPIENTS = tuple(word for word in RECIPIENTS if word != "agency")
# The reports' ladder where `reports.escalation` leaves a key out: the commune's staff warned,
# the chair the working day after the due day, the supervisors above two working days later.
# Never held for a digest (a digest lists tasks).
OBLIGATION_LADDER = EscalationRules(
    hours=HoursLadder(
        warn=("commune_staff",),
        on_breach=("commune_chair", "province_supervisors"),
        repeat_every_hours=24,
        repeat=("commune_chair",),
    ),
    working_days=WorkingDaysLadder(
        levels=(Level(1, ("commune_chair",)), Level(3, ("supervisors",))),
        digest=False,
        warn=("commune_staff",),
    ),
)


@dataclass(frozen=True)
class Choice:
    code: str
    label: dict[str, str]
    group: str | None = None


@dataclass(frozen=True)
class ChoiceList:
    name: str
    options: tuple[Choice, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(option.code for option in self.options)

    def label(self, code: str | None, locale: str = "vi") -> str:
        for option in self.options:
            if option.code == code:
                return option.label.get(locale) or option.label["vi"]
        return code or ""

    def to_json(self) -> list[dict]:
        return [
            {"code": o.code, "label": o.label, **({"group": o.group} if o.group else {})}
            for o in self.options
        ]


@dataclass(frozen=True)
class ObligationDef:
    """A report each commune owes every year: the months it covers and the day it is due."""

    code: str
    label: dict[str, str]
    period_from: tuple[int, int]  # (month, day)
    period_to: tuple[int, int]
    from_previous_year: bool
    due: tuple[int, int]
    enabled: bool = True
    clock: str = "working_days"  # which ladder of `reports.escalation` a late one climbs

    def period(self, year: int) -> tuple[date, date]:
        start_year = year - 1 if self.from_previous_year else year
        return date(start_year, *self.period_from), date(year, *self.period_to)

    def due_day(self, year: int) -> date:
        return date(year, *self.due)


@dataclass(frozen=True)
class AdhocRule:
    when_any: tuple[str, ...] = ()
    harm_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportSettings:
    task_kinds: dict[str, str] = field(default_factory=dict)
    dismissed_outcome: str = "unfounded"
    adhoc: AdhocRule = field(default_factory=AdhocRule)
    warn_days_before: int = 7
    obligations: tuple[ObligationDef, ...] = ()
    escalation: EscalationRules = OBLIGATION_LADDER

    def clock_of(self, code: str) -> str:
        """The clock of a report's deadline (one since removed from the file: working days)."""
        return next((o.clock for o in self.obligations if o.code == code), "working_days")


@dataclass(frozen=True)
class Lists:
    """What `load_lists` read: the lists by name, the report settings, and the constant column
    values each trigger records (`records: {closure_outcome: unfounded}` on dismiss)."""

    lists: dict[str, ChoiceList] = field(default_factory=dict)
    reports: ReportSettings = field(default_factory=ReportSettings)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> ChoiceList:
        return self.lists[name]


def _error(path: str, node: Any, message: str) -> Exception:
    return WorkflowError(f"{path}:{getattr(node, 'line', 0)}: {message}")


def _label(path: str, node: Any, owner: Any, what: str) -> dict[str, str]:
    if not isinstance(node, dict) or not all(isinstance(node.get(k), str) and node[k] for k in ("vi", "en")):
        raise _error(path, owner, f"{what}: label needs both vi and en")
    return {"vi": node["vi"], "en": node["en"]}


def _choice_lists(path: str, raw: dict) -> dict[str, ChoiceList]:
    node = raw.get("choice_lists")
    if not isinstance(node, dict):
        raise _error(path, raw, "choice_lists must be a mapping of lists")
    lists = {}
    for name, items in node.items():
        if not isinstance(items, list) or not items:
            raise _error(path, node, f"choice list {name!r} must be a non-empty list")
        options, seen = [], set()
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("code"), str) or not item["code"]:
                raise _error(
                    path, item if isinstance(item, dict) else node, f"{name}: each option needs a code"
                )
            if item["code"] in seen:
                raise _error(path, item, f"{name}: code {item['code']!r} is repeated")
            seen.add(item["code"])
            label = _label(path, item.get("label"), item, f"{name}.{item['code']}")
            options.append(Choice(item["code"], label, item.get("group")))
        lists[name] = ChoiceList(name, tuple(options))
    for name in REQUIRED_LISTS:
        if name not in lists:
            raise _error(path, node, f"choice list {name!r} is missing (the reports count by it)")
    return lists


def _bind_fields(path: str, raw: dict, lists: dict[str, ChoiceList]) -> dict[str, dict[str, Any]]:
    """Give each `list:`-bound trigger field its choices, and check each trigger's `records:`."""
    records: dict[str, dict[str, Any]] = {}
    for transition in raw.get("transitions") or []:
        for name, spec in (transition.get("fields") or {}).items():
            if isinstance(spec, dict) and "list" in spec:
                if spec["list"] not in lists:
                    raise _error(path, spec, f"field {name!r}: unknown choice list {spec['list']!r}")
                spec["choices"] = list(lists[spec["list"]].codes)
        constants = transition.get("records")
        if constants is None:
            continue
        if not isinstance(constants, dict):
            raise _error(path, transition, "records must be a mapping of column: value")
        for column, value in constants.items():
            if column not in CASE_COLUMNS:
                raise _error(path, transition, f"records: {column!r} is not a statistics column of the case")
            if value is not None and value not in lists[CASE_COLUMNS[column]].codes:
                raise _error(path, transition, f"records: {value!r} is not in {CASE_COLUMNS[column]}")
        records[str(transition.get("trigger"))] = dict(constants)
    return records


def _month_day(path: str, node: Any, value: Any, what: str) -> tuple[int, int]:
    try:
        month, day = (int(part) for part in str(value).split("-"))
        date(2024, month, day)  # a leap year: 02-29 is a day some years have
    except (TypeError, ValueError):
        raise _error(path, node, f'{what} must be a month-day like "05-15", not {value!r}') from None
    return month, day


def _reports(path: str, raw: dict, lists: dict[str, ChoiceList]) -> ReportSettings:
    node = raw.get("reports")
    if not isinstance(node, dict):
        raise _error(path, raw, "reports must be a mapping")
    task_kinds = node.get("task_kinds") or {}
    known_kinds = {
        str(t.get("kind", tid)) for tid, t in (raw.get("tasks") or {}).items() if isinstance(t, dict)
    }
    for role in TASK_ROLES:
        if task_kinds.get(role) not in known_kinds:
            raise _error(path, node, f"reports.task_kinds.{role} must name a task kind of `tasks:`")
    dismissed = node.get("dismissed_outcome")
    if dismissed not in lists["closure_outcomes"].codes:
        raise _error(path, node, "reports.dismissed_outcome must be a code of closure_outcomes")
    adhoc = node.get("adhoc") or {}
    warn = node.get("warn_days_before", 7)
    if isinstance(warn, bool) or not isinstance(warn, int) or warn < 0:
        raise _error(path, node, "reports.warn_days_before must be a whole number >= 0")
    obligations, seen = [], set()
    for item in node.get("obligations") or []:
        if not isinstance(item, dict) or not isinstance(item.get("code"), str) or item["code"] in seen:
            raise _error(
                path, item if isinstance(item, dict) else node, "each obligation needs a unique code"
            )
        seen.add(item["code"])
        clock = item.get("clock", "working_days")
        if clock not in CLOCKS:
            raise _error(path, item, f"obligation {item['code']!r}: clock must be one of {', '.join(CLOCKS)}")
        period = item.get("period")
        if not isinstance(period, dict):
            raise _error(path, item, f"obligation {item['code']!r} needs a period with from and to")
        obligations.append(
            ObligationDef(
                code=item["code"],
                label=_label(path, item.get("label"), item, f"obligation {item['code']!r}"),
                period_from=_month_day(path, period, period.get("from"), "period.from"),
                period_to=_month_day(path, period, period.get("to"), "period.to"),
                from_previous_year=bool(period.get("from_previous_year", False)),
                due=_month_day(path, item, item.get("due"), "due"),
                enabled=bool(item.get("enabled", True)),
                clock=clock,
            )
        )
    return ReportSettings(
        task_kinds={role: task_kinds[role] for role in TASK_ROLES},
        dismissed_outcome=dismissed,
        adhoc=AdhocRule(
            when_any=tuple(adhoc.get("when_any") or ()),
            harm_types=tuple(adhoc.get("harm_types") or ()),
        ),
        warn_days_before=warn,
        obligations=tuple(obligations),
        escalation=_obligation_ladder(path, node),
    )


def _obligation_ladder(path: str, node: dict) -> EscalationRules:
    """`reports.escalation`: the tasks' ladder format, read by the same parser, per clock."""
    raw = node.get("escalation")
    for clock, key in (("hours", "warn_before_hours"), ("working_days", "warning_fraction")):
        part = raw.get(clock) if isinstance(raw, dict) else None
        if isinstance(part, dict) and key in part:
            raise _error(
                path, part, f"reports.escalation.{clock}.{key}: reports are warned warn_days_before ahead"
            )
    try:
        rules = parse_escalation(raw, getattr(node, "line", 0), OBLIGATION_LADDER, OBLIGATION_RECIPIENTS)
    except LadderError as exc:
        raise WorkflowError(f"{path}:{exc.line}: reports.{exc}") from None
    if rules.working_days.digest:
        raise _error(path, raw, "reports.escalation.working_days.digest must be false (a digest lists tasks)")
    return rules


def load_lists(path: str, raw: dict) -> Lists:
    """Read `choice_lists:` and `reports:`; bind `list:` fields. Runs before the transitions are read.

    A file with neither (a minimal procedure, e.g. in a test) has no lists and no reports."""
    if "choice_lists" not in raw and "reports" not in raw:
        return Lists()
    lists = _choice_lists(path, raw)
    records = _bind_fields(path, raw, lists)
    return Lists(lists=lists, reports=_reports(path, raw, lists), records=records)
