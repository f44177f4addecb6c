"""The periodic figures (Circular 13/2021 and the provincial plan) for a unit and a period.

Every figure is counted by the database with GROUP BY over the cases received in the period
(the cohort) in the unit's subtree: a case counts for a unit when the commune where it happened
or the commune where the child lives is in it, the same rule that decides who may read it. No
loop in Python visits a case; Python only turns a few dozen grouped rows into the report.

A report that leaves the commune (a supervisor's view of any unit, or any exported file) shows
counts from 1 to CASEFLOW_REPORT_MIN_COUNT - 1 as "<N", so that a small commune's figures
cannot name a child; the JSON says so with `suppressed` and `min_count`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, case, func, literal, or_, select, text, true

from caseflow.extensions import db
from caseflow.models import Agency, Case, Child, OrgUnit, Task, User
from caseflow.models.cases import HARM_TYPES, SEXES
from caseflow.models.types import utcnow
from caseflow.services import access
from caseflow.services.errors import Invalid, NotFound
from caseflow.workflow.clock import LOCAL_TZ
from caseflow.workflow.definition import WorkflowDefinition
from caseflow.workflow.lists import ChoiceList

NOT_RECORDED = "not_recorded"
AGE_GROUPS = ("0-5", "6-10", "11-15")
MAX_PERIOD_DAYS = 5 * 366
REPORT_WORK_MEM = "64MB"

# Indicators in the order a report lists them; each (code, dimensions of its breakdown).
INDICATORS = (
    ("cases_received", ("channel", "harm_type")),
    ("cases_dismissed", ()),
    ("cases_closed", ("closure_outcome",)),
    (
        "children_harmed",
        (
            "sex",
            "age_group",
            "harm_type",
            "setting",
            "perpetrator_relation",
            "ethnicity",
            "disability",
            "special_group",
        ),
    ),
    ("services_given", ("service",)),
    ("emergency_on_time", ("timeliness",)),
    ("plans_on_time", ("timeliness",)),
    ("time_to_verify_hours", ()),
    ("time_to_plan_days", ()),
    ("overdue_tasks", ("agency",)),
)
# The breakdowns whose values are codes of a choice list of the workflow file: that list orders
# them (dimension_codes) and labels them (report_files). The one home of which list is whose.
DIMENSION_LISTS = {
    "setting": "harm_settings",
    "perpetrator_relation": "perpetrator_relations",
    "ethnicity": "ethnicities",
    "disability": "disabilities",
    "special_group": "special_circumstance_groups",
    "service": "services",
    "closure_outcome": "closure_outcomes",
}
# Indicators whose value is an average, never suppressed (they are not counts of children).
AVERAGES = ("time_to_verify_hours", "time_to_plan_days")


@dataclass(frozen=True)
class Period:
    """Whole local days, `start` to `end` inclusive (Asia/Ho_Chi_Minh), and their UTC bounds."""

    start: date
    end: date

    @property
    def utc_start(self) -> datetime:
        return datetime.combine(self.start, time(), LOCAL_TZ).astimezone(UTC)

    @property
    def utc_end(self) -> datetime:
        """The first moment after the period (exclusive bound)."""
        return datetime.combine(self.end + timedelta(days=1), time(), LOCAL_TZ).astimezone(UTC)


def parse_period(start: object, end: object) -> Period:
    """The period from two ISO dates, or a 422 naming the field."""
    errors, days = {}, {}
    for name, raw in (("from", start), ("to", end)):
        try:
            days[name] = date.fromisoformat(str(raw)) if raw else None
        except ValueError:
            days[name] = None
        if days[name] is None:
            errors[name] = "is required: a date (YYYY-MM-DD)"
        elif not 1900 <= days[name].year <= 2200:
            errors[name] = "must be a date between 1900 and 2200"
    if not errors and days["to"] < days["from"]:
        errors["to"] = "is before from"
    if not errors and (days["to"] - days["from"]).days > MAX_PERIOD_DAYS:
        errors["to"] = "the period may span at most 5 years"
    if errors:
        raise Invalid(errors)
    return Period(days["from"], days["to"])


def report_unit(user: User, code: str | None) -> OrgUnit:
    """The unit a report is about: supervisors any unit of their subtree, officers and chairs
    their own commune. Another unit is a 404, as for cases: existence is not revealed."""
    if not code:
        if user.org_unit is None:
            raise Invalid({"org_unit": "is required"})
        return user.org_unit
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == str(code)))
    if unit is None or not may_report_on(user, unit):
        raise NotFound("No such org unit")
    return unit


def may_report_on(user: User, unit: OrgUnit) -> bool:
    if user.role == "supervisor" and user.org_unit is not None:
        return unit.is_within(user.org_unit)
    if user.role in ("officer", "chair"):
        return unit.id == user.org_unit_id
    return False


def leaves_commune(user: User, unit: OrgUnit, export: bool) -> bool:
    """Small counts are suppressed once a report leaves the commune that made it: any file
    (it travels on by itself) and any supervisor's view; a commune's own officers and chair
    see their own figures exactly on screen."""
    return export or not (user.role in ("officer", "chair") and unit.id == user.org_unit_id)


def _subtree(unit: OrgUnit) -> Select:
    return select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))


def _in_unit(incident: ColumnElement, residence: ColumnElement, unit: OrgUnit) -> ColumnElement[bool]:
    if unit.level == "commune":  # the common case: two equalities, no subtree to look up
        return or_(incident == unit.id, residence == unit.id)
    if access.covers_whole_register(unit):  # one province's installation: every case is in it
        return true()
    ids = list(db.session.scalars(_subtree(unit)))
    return or_(incident.in_(ids), residence.in_(ids))


def _flag(condition: ColumnElement) -> ColumnElement:
    return case((condition, 1), else_=0)


def _age_group(age: ColumnElement) -> ColumnElement:
    return case(
        (age.is_(None), literal(NOT_RECORDED)),
        (age <= 5, literal("0-5")),
        (age <= 10, literal("6-10")),
        else_=literal("11-15"),
    )


def _hours_between(later: ColumnElement, earlier: ColumnElement) -> ColumnElement:
    if db.engine.dialect.name == "postgresql":  # date_part: a float (EXTRACT is a slow numeric)
        return func.date_part("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def _breakdowns(cohort: ColumnElement, harmed: ColumnElement, harmed_cases: int) -> dict[str, dict]:
    """The one-column breakdowns of the children harmed and of the harm's circumstances, in two
    grouped scans of a few columns each; Python adds up their few hundred grouped rows into each
    breakdown. Narrow GROUP BYs cost less than a GROUP BY per breakdown, and than PostgreSQL's
    GROUPING SETS (measured on 200,000 cases), and run the same on SQLite.

    The children are joined to the cohort with an inner join, which lets PostgreSQL hash the
    cohort's ids rather than every child's row (an outer join must hash the children); a case has
    at most one child, so the `harmed_cases` the join did not find are the ones with no child
    recorded, counted as not recorded in each of the child's breakdowns."""
    groups = (
        (
            ("sex", Child.sex),
            ("age_group", _age_group(Child.age_at_receipt)),
            ("ethnicity", Child.ethnicity),
            ("disability", Child.disability),
        ),
        (
            ("setting", Case.harm_setting),
            ("perpetrator_relation", Case.perpetrator_relation),
            ("special_group", Case.special_group),
        ),
    )
    out: dict[str, dict[str, int]] = {name: {} for group in groups for name, _ in group}
    for i, group in enumerate(groups):
        columns = [column for _, column in group]
        query = select(*columns, func.count()).select_from(Case)
        if i == 0:
            query = query.join(Child, Child.case_id == Case.id)
        query = query.where(cohort, harmed).group_by(*columns)
        for row in db.session.execute(query):
            *codes, n = row
            for (name, _), code in zip(group, codes, strict=True):
                key = NOT_RECORDED if code is None else str(code)
                out[name][key] = out[name].get(key, 0) + int(n)
    without_child = harmed_cases - sum(out["sex"].values())
    if without_child > 0:
        for name, _ in groups[0]:
            out[name][NOT_RECORDED] = out[name].get(NOT_RECORDED, 0) + without_child
    return out


def _totals(
    cohort: ColumnElement, dismissed: ColumnElement, closed: ColumnElement, harms: tuple, services: tuple
) -> dict[str, Any]:
    """The cohort's counts, its channels and closure outcomes, and its harm types (all cases and
    cases not dismissed) and the services of closed cases, in one scan grouped by the two flags,
    the channel, the outcome and the two JSON lists as text: a few hundred groups, whose lists
    Python reads once each, where testing every code on every case cost a dozen string
    searches per case."""
    is_dismissed, is_closed = _flag(dismissed), _flag(closed)
    harm_text, service_text = Case.harm_types.cast(String), Case.services.cast(String)
    columns = (is_dismissed, is_closed, Case.channel, Case.closure_outcome, harm_text, service_text)
    query = select(*columns, func.count()).select_from(Case).where(cohort).group_by(*columns)
    totals: dict[str, Any] = {"received": 0, "dismissed": 0, "closed": 0, "with_services": 0}
    totals |= {"harm_all": {}, "harm_harmed": {}, "services": {}, "channel": {}, "closure_outcome": {}}

    def add(key: str, code: str, n: int) -> None:
        totals[key][code] = totals[key].get(code, 0) + n

    for was_dismissed, was_closed, channel, outcome, harm_list, service_list, n in db.session.execute(query):
        n = int(n)
        totals["received"] += n
        totals["dismissed"] += n if was_dismissed else 0
        totals["closed"] += n if was_closed else 0
        add("channel", NOT_RECORDED if channel is None else str(channel), n)
        # A list holds a code when its text has it in quotes (the same on both backends).
        for code in harms:
            if harm_list and f'"{code}"' in harm_list:
                add("harm_all", code, n)
                if not was_dismissed:
                    add("harm_harmed", code, n)
        if was_closed:
            add("closure_outcome", NOT_RECORDED if outcome is None else str(outcome), n)
            if service_list is not None:
                totals["with_services"] += n
                for code in services:
                    if f'"{code}"' in service_list:
                        add("services", code, n)
    return totals


def _tasks(kinds: dict[str, str], unit: OrgUnit, period: Period, cohort: ColumnElement) -> dict[str, Any]:
    """The timeliness of the cohort's verify, emergency and plan tasks: done by the deadline,
    done late, open past it, open; and the average time the done ones took. One scan grouped by
    kind, status and the two comparisons that decide the bucket (a few dozen groups), with sums
    and counts of the times: Python sorts the groups into buckets and divides, where a CASE
    per bucket and per average on every task cost more than the scan.

    Tasks carry their case's receipt and communes, so above a commune the cohort's tasks are one
    range of ix_tasks_figures by receipt, with no join to the cases (the join hashed the whole
    cohort, the costliest part of the report); a commune's few cases find theirs by case."""
    end = period.utc_end
    to_verify, to_do = (
        _hours_between(Task.completed_at, Task.case_received_at),
        _hours_between(Task.completed_at, Task.created_at),
    )
    # Late by the end of the period, or by now if the period has not ended: a task due tonight is
    # not late yet on a report that ends today.
    in_time, due_by_end = Task.completed_at <= Task.due_at, Task.due_at < min(end, utcnow())
    keys = (Task.kind, Task.status, in_time, due_by_end)
    query = select(*keys, func.count(), func.sum(to_verify), func.sum(to_do), func.count(Task.completed_at))
    if unit.level == "commune":
        query = query.select_from(Task).join(Case, Case.id == Task.case_id).where(cohort)
    else:
        query = query.where(
            _in_unit(Task.incident_commune_id, Task.residence_commune_id, unit),
            Task.case_received_at >= period.utc_start,
            Task.case_received_at < end,
        )
    query = query.where(Task.kind.in_([k for k in kinds.values() if k]), Task.status != "cancelled").group_by(
        *keys
    )
    buckets = ("on_time", "late", "open_overdue", "open")
    counts: dict[str, dict[str, int]] = {}
    sums: dict[str, list[float]] = {}  # per kind: hours since receipt, hours since made, how many
    for kind, status, was_in_time, was_due, n, since_receipt, since_made, timed in db.session.execute(query):
        found = counts.setdefault(kind, dict.fromkeys(buckets, 0))
        if status == "done":
            # NULL comparisons (done without a completion time) count in no bucket, as before.
            if was_in_time is not None:
                found["on_time" if was_in_time else "late"] += int(n)
            if timed:
                total = sums.setdefault(kind, [0.0, 0.0, 0])
                total[0] += float(since_receipt or 0)
                total[1] += float(since_made or 0)
                total[2] += int(timed)
        else:
            found["open_overdue" if was_due else "open"] += int(n)

    def timeliness(kind: str) -> dict[str, int]:
        return counts.get(kind, dict.fromkeys(buckets, 0))

    def average(kind: str, which: int, scale: float) -> float | None:
        total = sums.get(kind)
        return round(total[which] / total[2] / scale, 1) if total else None

    return {
        "emergency": timeliness(kinds.get("emergency", "")),
        "plan": timeliness(kinds.get("plan", "")),
        "verify_hours": average(kinds.get("verify", ""), 0, 1.0),
        "plan_days": average(kinds.get("plan", ""), 1, 24.0),
    }


def _open_at(end: datetime) -> ColumnElement[bool]:
    """Tasks not completed (nor cancelled) by `end`. A period that ends now or later asks for
    the tasks open now: the open tasks' partial index, not every task ever made."""
    if end >= utcnow():
        return Task.status == "open"
    return or_(Task.completed_at.is_(None), Task.completed_at >= end)


def compute(definition: WorkflowDefinition, unit: OrgUnit, period: Period) -> dict[str, Any]:
    """The report's figures, exact (suppression is `suppress`'s job), keyed by codes.

    Four statements whatever the size of the register: the cohort's totals with its harm types
    and services, its one-column breakdowns, its tasks' timeliness, and the tasks overdue at
    the end of the period by agency."""
    settings = definition.lists.reports
    start, end = period.utc_start, period.utc_end
    cohort = and_(
        _in_unit(Case.incident_commune_id, Case.residence_commune_id, unit),
        Case.received_at >= start,
        Case.received_at < end,
        Case.id > 0,  # always true: lets the period be read from the partial ix_cases_received_id
    )
    # IS NOT DISTINCT FROM, not =: a case closed with no outcome recorded (it is optional on
    # close) must make ~dismissed true, where = would make it NULL and count it nowhere.
    dismissed = and_(
        Case.closure_outcome.is_not_distinct_from(settings.dismissed_outcome),
        Case.closed_at.is_not(None),
        Case.closed_at < end,
    )
    closed = and_(Case.closed_at.is_not(None), Case.closed_at < end, ~dismissed)
    services = definition.lists["services"].codes if "services" in definition.lists.lists else ()
    if db.engine.dialect.name == "postgresql":
        # Room to hash the few hundred groups in memory: with the default 4 MB, PostgreSQL
        # misjudges the groups of the CASE flags as many and sorts the whole cohort on disk.
        db.session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
    totals = _totals(cohort, dismissed, closed, HARM_TYPES, services)
    breakdowns = _breakdowns(cohort, ~dismissed, totals["received"] - totals["dismissed"]) | {
        "channel": totals["channel"],
        "closure_outcome": totals["closure_outcome"],
    }
    tasks = _tasks(settings.task_kinds, unit, period, cohort)
    overdue_at_end = {
        code: int(n)
        for code, n in db.session.execute(
            select(Agency.code, func.count())
            .select_from(Task)
            .join(Agency, Agency.id == Task.agency_id)
            .where(
                _in_unit(Task.incident_commune_id, Task.residence_commune_id, unit),
                # Owed since its deadline passed, even if it was recorded later (a report entered
                # after the fact): open at `to` means not completed (nor cancelled) by then.
                Task.due_at < min(end, utcnow()),  # not late yet if due later today
                _open_at(end),
            )
            .group_by(Agency.code)
        )
    }
    sexes = {sex: 0 for sex in SEXES} | breakdowns["sex"]
    ages = {group: 0 for group in AGE_GROUPS} | breakdowns["age_group"]
    closures = breakdowns["closure_outcome"]
    values: dict[str, tuple[Any, dict[str, dict[str, int]]]] = {
        "cases_received": (
            totals["received"],
            {"channel": breakdowns["channel"], "harm_type": totals["harm_all"]},
        ),
        "cases_dismissed": (totals["dismissed"], {}),
        "cases_closed": (totals["closed"], {"closure_outcome": closures}),
        "children_harmed": (
            sum(sexes.values()),
            {
                "sex": sexes,
                "age_group": ages,
                "harm_type": totals["harm_harmed"],
                "setting": breakdowns["setting"],
                "perpetrator_relation": breakdowns["perpetrator_relation"],
                "ethnicity": breakdowns["ethnicity"],
                "disability": breakdowns["disability"],
                "special_group": breakdowns["special_group"],
            },
        ),
        "services_given": (totals["with_services"], {"service": totals["services"]}),
        "emergency_on_time": (tasks["emergency"]["on_time"], {"timeliness": tasks["emergency"]}),
        "plans_on_time": (tasks["plan"]["on_time"], {"timeliness": tasks["plan"]}),
        "time_to_verify_hours": (tasks["verify_hours"], {}),
        "time_to_plan_days": (tasks["plan_days"], {}),
        "overdue_tasks": (sum(overdue_at_end.values()), {"agency": overdue_at_end}),
    }
    indicators = []
    for code, dimensions in INDICATORS:
        value, breakdown = values[code]
        item = {"code": code, "value": value, "breakdown": {d: breakdown.get(d, {}) for d in dimensions}}
        if code in ("emergency_on_time", "plans_on_time"):
            item["total"] = sum(breakdown["timeliness"].values())
        indicators.append(item)
    return {
        "org_unit": unit.code,
        "org_unit_name": unit.name,
        "level": unit.level,
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "indicators": indicators,
    }


def suppress(report: dict[str, Any], min_count: int) -> dict[str, Any]:
    """The report with every count from 1 to min_count - 1 shown as "<min_count"."""
    marker = f"<{min_count}"

    def hide(value: Any) -> Any:
        return (
            marker
            if isinstance(value, int) and not isinstance(value, bool) and 0 < value < min_count
            else value
        )

    indicators = []
    for item in report["indicators"]:
        if item["code"] in AVERAGES:
            indicators.append(dict(item))
            continue
        shown = {**item, "value": hide(item["value"])}
        if "total" in item:
            shown["total"] = hide(item["total"])
        shown["breakdown"] = {
            dim: {key: hide(n) for key, n in values.items()} for dim, values in item["breakdown"].items()
        }
        indicators.append(shown)
    return {**report, "indicators": indicators, "suppressed": True, "min_count": min_count}


def dimension_list(definition: WorkflowDefinition, dimension: str) -> ChoiceList | None:
    """The workflow file's choice list whose codes a breakdown's values are, if any."""
    return definition.lists.lists.get(DIMENSION_LISTS.get(dimension, ""))


def dimension_codes(definition: WorkflowDefinition, dimension: str, seen: Iterable[str]) -> list[str]:
    """The values a breakdown lists, in the order people expect (the list's own order), then any
    value the data holds that the list does not (an older code) and `not_recorded` last."""
    source = dimension_list(definition, dimension)
    if source is not None:
        order = list(source.codes)
    elif dimension == "age_group":
        order = list(AGE_GROUPS)
    else:
        order = []
    seen = list(seen)
    return (
        [c for c in order if c in seen]
        + sorted(c for c in seen if c not in order and c != NOT_RECORDED)
        + ([NOT_RECORDED] if NOT_RECORDED in seen else [])
    )
