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

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select, true

from caseflow.extensions import db
from caseflow.models import Agency, Case, Child, OrgUnit, Task, User
from caseflow.models.cases import SEXES
from caseflow.services.errors import Invalid, NotFound
from caseflow.workflow.clock import LOCAL_TZ
from caseflow.workflow.definition import WorkflowDefinition

NOT_RECORDED = "not_recorded"
AGE_GROUPS = ("0-5", "6-10", "11-15")
MAX_PERIOD_DAYS = 5 * 366

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
    ids = list(db.session.scalars(_subtree(unit)))
    return or_(incident.in_(ids), residence.in_(ids))


def _grouped(query: Select) -> dict[str, int]:
    return {(NOT_RECORDED if key is None else str(key)): int(n) for key, n in db.session.execute(query)}


def _json_elements(column: ColumnElement) -> Any:
    """The elements of a JSON list column as a table to join: json_each on SQLite,
    json_array_elements_text on PostgreSQL."""
    if db.engine.dialect.name == "postgresql":
        return func.json_array_elements_text(column).table_valued("value")
    return func.json_each(column).table_valued("value")


def _age_group(age: ColumnElement) -> ColumnElement:
    return case(
        (age.is_(None), literal(NOT_RECORDED)),
        (age <= 5, literal("0-5")),
        (age <= 10, literal("6-10")),
        else_=literal("11-15"),
    )


def _hours_between(later: ColumnElement, earlier: ColumnElement) -> ColumnElement:
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def _timeliness(task_kind: str, cohort: ColumnElement, end: datetime) -> dict[str, int]:
    """Tasks of a kind on the cohort's cases: done by their deadline, done late, still open
    (past or not yet past the deadline at the period's end). Cancelled tasks owe nothing."""
    status = case(
        (and_(Task.status == "done", Task.completed_at <= Task.due_at), literal("on_time")),
        (Task.status == "done", literal("late")),
        (Task.due_at < end, literal("open_overdue")),
        else_=literal("open"),
    )
    rows = _grouped(
        select(status, func.count())
        .select_from(Task)
        .join(Case, Case.id == Task.case_id)
        .where(cohort, Task.kind == task_kind, Task.status != "cancelled")
        .group_by(status)
    )
    return {key: rows.get(key, 0) for key in ("on_time", "late", "open_overdue", "open")}


def _average(task_kind: str, cohort: ColumnElement, since: ColumnElement, scale: float) -> float | None:
    value = db.session.scalar(
        select(func.avg(_hours_between(Task.completed_at, since)))
        .select_from(Task)
        .join(Case, Case.id == Task.case_id)
        .where(cohort, Task.kind == task_kind, Task.status == "done")
    )
    return None if value is None else round(float(value) / scale, 1)


def compute(definition: WorkflowDefinition, unit: OrgUnit, period: Period) -> dict[str, Any]:
    """The report's figures, exact (suppression is `suppress`'s job), keyed by codes."""
    settings = definition.lists.reports
    start, end = period.utc_start, period.utc_end
    cohort = and_(
        _in_unit(Case.incident_commune_id, Case.residence_commune_id, unit),
        Case.received_at >= start,
        Case.received_at < end,
    )
    dismissed = and_(
        Case.closure_outcome == settings.dismissed_outcome, Case.closed_at.is_not(None), Case.closed_at < end
    )
    closed = and_(Case.closed_at.is_not(None), Case.closed_at < end, ~dismissed)
    harmed = and_(cohort, ~dismissed)
    harm = _json_elements(Case.harm_types)
    service = _json_elements(Case.services)

    def by(column: ColumnElement, where: ColumnElement, *, child: bool = False) -> dict[str, int]:
        query = select(column, func.count()).select_from(Case)
        if child:
            query = query.join(Child, Child.case_id == Case.id)
        return _grouped(query.where(where).group_by(column))

    def elements(table: Any, where: ColumnElement) -> dict[str, int]:
        return _grouped(
            select(table.c.value, func.count())
            .select_from(Case)
            .join(table, true())
            .where(where)
            .group_by(table.c.value)
        )

    received = by(Case.channel, cohort)
    sexes = {sex: 0 for sex in SEXES} | by(Child.sex, harmed, child=True)
    ages = {group: 0 for group in AGE_GROUPS} | by(_age_group(Child.age_at_receipt), harmed, child=True)
    overdue_at_end = _grouped(
        select(Agency.code, func.count())
        .select_from(Task)
        .join(Agency, Agency.id == Task.agency_id)
        .where(
            _in_unit(Task.incident_commune_id, Task.residence_commune_id, unit),
            # Owed since its deadline passed, even if it was recorded later (a report entered
            # after the fact): open at `to` means not completed (nor cancelled) by then.
            Task.due_at < end,
            or_(Task.completed_at.is_(None), Task.completed_at >= end),
        )
        .group_by(Agency.code)
    )
    closures = by(Case.closure_outcome, and_(cohort, closed))
    kinds = settings.task_kinds
    emergency = _timeliness(kinds.get("emergency", ""), cohort, end)
    plans = _timeliness(kinds.get("plan", ""), cohort, end)
    values: dict[str, tuple[Any, dict[str, dict[str, int]]]] = {
        "cases_received": (
            sum(received.values()),
            {"channel": received, "harm_type": elements(harm, cohort)},
        ),
        "cases_dismissed": (by(literal(1), and_(cohort, dismissed)).get("1", 0), {}),
        "cases_closed": (sum(closures.values()), {"closure_outcome": closures}),
        "children_harmed": (
            sum(sexes.values()),
            {
                "sex": sexes,
                "age_group": ages,
                "harm_type": elements(harm, harmed),
                "setting": by(Case.harm_setting, harmed),
                "perpetrator_relation": by(Case.perpetrator_relation, harmed),
                "ethnicity": by(Child.ethnicity, harmed, child=True),
                "disability": by(Child.disability, harmed, child=True),
                "special_group": by(Case.special_group, harmed),
            },
        ),
        "services_given": (
            by(literal(1), and_(cohort, closed, Case.services.is_not(None))).get("1", 0),
            {"service": elements(service, and_(cohort, closed))},
        ),
        "emergency_on_time": (emergency["on_time"], {"timeliness": emergency}),
        "plans_on_time": (plans["on_time"], {"timeliness": plans}),
        "time_to_verify_hours": (_average(kinds.get("verify", ""), cohort, Case.received_at, 1.0), {}),
        "time_to_plan_days": (_average(kinds.get("plan", ""), cohort, Task.created_at, 24.0), {}),
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


def dimension_codes(definition: WorkflowDefinition, dimension: str, seen: Iterable[str]) -> list[str]:
    """The values a breakdown lists, in the order people expect (the list's own order), then any
    value the data holds that the list does not (an older code) and `not_recorded` last."""
    lists = definition.lists.lists
    source = {
        "setting": "harm_settings",
        "perpetrator_relation": "perpetrator_relations",
        "ethnicity": "ethnicities",
        "disability": "disabilities",
        "special_group": "special_circumstance_groups",
        "service": "services",
        "closure_outcome": "closure_outcomes",
    }.get(dimension)
    if source and source in lists:
        order = list(lists[source].codes)
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
