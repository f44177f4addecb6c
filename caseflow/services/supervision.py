"""What a supervisor watches: late work by how late it is and who has been told, and monthly trends.

Counted in the database, grouped by month in Vietnam time (UTC+7 all year: no daylight saving),
within the caller's reach (the same rule as every case read, `access`).
"""

from __future__ import annotations

import time as monotonic_clock
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, String, and_, cast, func, or_, select

from caseflow.extensions import db
from caseflow.models import Agency, Case, CaseEvent, OrgUnit, Task, User
from caseflow.models.types import utcnow
from caseflow.services import access
from caseflow.services.reports import Period
from caseflow.workflow.clock import LOCAL_TZ

# The overview shows the longest overdue few, and links to the overdue case list for the rest:
# a hundred rows made the page slow to build and ten thousand pixels tall on a phone.
LATE_TASKS_LIMIT = 25
# The same for the agencies: a province has about a thousand, most with some late work, and the
# overview lists the ones with the most; the agencies page lists every one.
OVERVIEW_AGENCIES_LIMIT = 25
# Months that have ended, counted over the whole register, are kept this long per database: they
# change only when a report is entered after the fact or a late task is cancelled, and recounting
# a year of them was most of a province overview's time at 200,000 cases. The current month is
# always counted afresh.
PAST_MONTHS_SECONDS = 300
_past_months: WeakKeyDictionary[Any, dict[tuple, tuple[float, tuple[int, ...]]]] = WeakKeyDictionary()


def _unit_scope(incident: ColumnElement, residence: ColumnElement, unit: OrgUnit | None) -> Any:
    if unit is None:
        return True
    ids = select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))
    return or_(incident.in_(ids), residence.in_(ids))


def months_between(start: date, end: date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


@dataclass
class Trend:
    month: str
    received: int
    closed: int
    overdue: int


def month_bounds(period: Period) -> list[tuple[str, datetime, datetime]]:
    """Each month of the period with its UTC bounds: from the first moment of the month in
    Vietnam time (or of the period) to the first moment after it (or after the period)."""
    bounds = []
    for month in months_between(period.start, period.end):
        first = date.fromisoformat(f"{month}-01")
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        lo = datetime.combine(first, time(), LOCAL_TZ).astimezone(UTC)
        hi = datetime.combine(following, time(), LOCAL_TZ).astimezone(UTC)
        bounds.append((month, max(lo, period.utc_start), min(hi, period.utc_end)))
    return bounds


def monthly_trends(user: User, period: Period, unit: OrgUnit | None = None) -> list[Trend]:
    """Per month of the period: cases received, cases closed, and tasks that went past their
    deadline undone that month (a task done late still went overdue).

    Counted on index ranges, never by turning each row into its month: cases by received_at
    and by closed_at, tasks that went overdue by due_at (partial indexes holding just those).
    Over the whole register (a province's supervisor) each month is one range counted from the
    index alone, the months that have ended kept for PAST_MONTHS_SECONDS; within a commune or a
    district the cases in reach are found first (their communes' indexes) and each figure is
    counted per month in one pass over them.
    """
    months = month_bounds(period)
    if not months:
        return []
    went_overdue = (
        Task.status != "cancelled",
        or_(Task.completed_at.is_(None), Task.completed_at > Task.due_at),
        Task.due_at < utcnow(),
    )
    whole = user.role == "supervisor" and user.org_unit is not None
    whole = whole and access.covers_whole_register(unit or user.org_unit)
    if whole:
        found = _whole_register_months(months, went_overdue)
        counts = [[found[month][i] for month, _lo, _hi in months] for i in range(3)]
    else:
        reach = and_(
            access.case_scope(user), _unit_scope(Case.incident_commune_id, Case.residence_commune_id, unit)
        )
        in_reach = Task.case_id.in_(select(Case.id).where(reach))
        counts = [
            db.session.execute(_by_month(Case, Case.received_at, months, Case.id > 0, reach)).one(),
            db.session.execute(
                _by_month(Case, Case.closed_at, months, Case.closed_at.is_not(None), reach)
            ).one(),
            db.session.execute(_by_month(Task, Task.due_at, months, *went_overdue, in_reach)).one(),
        ]
    return [
        Trend(month, int(counts[0][i]), int(counts[1][i]), int(counts[2][i]))
        for i, (month, _lo, _hi) in enumerate(months)
    ]


def _whole_register_months(months: list, went_overdue: tuple) -> dict[str, tuple[int, ...]]:
    """Each month's three counts over the whole register, one index range each, in one statement;
    the months that have ended come from `_past_months` while fresh."""
    today = utcnow().astimezone(LOCAL_TZ).date()
    this_month = datetime.combine(today.replace(day=1), time(), LOCAL_TZ).astimezone(UTC)
    kept = _past_months.setdefault(db.engine, {})
    clock = monotonic_clock.monotonic()
    found: dict[str, tuple[int, ...]] = {}
    missing = []
    for month, lo, hi in months:
        hit = kept.get((lo, hi)) if hi <= this_month else None
        if hit is not None and clock - hit[0] < PAST_MONTHS_SECONDS:
            found[month] = hit[1]
        else:
            missing.append((month, lo, hi))
    if missing:
        figures = []
        for _month, lo, hi in missing:
            # `id > 0` is the received_at index's own condition: the count reads the index alone.
            figures.append(_count(Case, Case.received_at, lo, hi, Case.id > 0))
            figures.append(_count(Case, Case.closed_at, lo, hi, Case.closed_at.is_not(None)))
            figures.append(_count(Task, Task.due_at, lo, hi, *went_overdue))
        row = db.session.execute(select(*(f.scalar_subquery() for f in figures))).one()
        for i, (month, lo, hi) in enumerate(missing):
            found[month] = tuple(int(n) for n in row[3 * i : 3 * i + 3])
            if hi <= this_month:
                kept[(lo, hi)] = (clock, found[month])
    return found


def _count(model: Any, column: ColumnElement, lo: datetime, hi: datetime, *where: Any) -> Any:
    return select(func.count()).select_from(model).where(column >= lo, column < hi, *where)


def _by_month(model: Any, column: ColumnElement, months: list, *where: Any) -> Any:
    """One row: the count of each month's range, in one pass over the period's rows in reach."""
    first, last = months[0][1], months[-1][2]
    return (
        select(*(func.count().filter(and_(column >= lo, column < hi)) for _m, lo, hi in months))
        .select_from(model)
        .where(column >= first, column < last, *where)
    )


def late_tasks(user: User, unit: OrgUnit | None = None, limit: int | None = None) -> list[dict]:
    """Open overdue tasks, the latest first: the agency, the ladder level reached and who was
    told (from the trail's escalation events). Case references only, never the child."""
    now = utcnow()
    rows = db.session.execute(
        select(Task, Case.reference, Agency.name, Agency.kind)
        .join(Case, Case.id == Task.case_id)
        .join(Agency, Agency.id == Task.agency_id)
        .where(
            # The task's own copy of its case's communes: the open tasks' index in deadline
            # order answers it, where the case's communes had every late task joined first.
            access.task_commune_scope(user),
            _unit_scope(Task.incident_commune_id, Task.residence_commune_id, unit),
            Task.status == "open",
            Task.due_at < now,
        )
        .order_by(Task.due_at, Task.id)
        .limit(LATE_TASKS_LIMIT if limit is None else limit)
    ).all()
    told = _told(rows)
    return [
        {
            "task": task,
            "reference": reference,
            "agency": agency_name,
            "agency_kind": agency_kind,
            "late_hours": (now - task.due_at).total_seconds() / 3600,
            "level": task.escalation_level,
            "told": told.get(task.id, []),
        }
        for task, reference, agency_name, agency_kind in rows
    ]


def _told(rows: list) -> dict[int, list[str]]:
    """Everyone each task's escalations have told so far, lowest level first."""
    tasks = {task.id: task for task, *_ in rows}
    if not tasks:
        return {}
    events = db.session.execute(
        select(CaseEvent.data).where(
            CaseEvent.kind == "escalation",
            CaseEvent.case_id.in_({t.case_id for t in tasks.values()}),
        )
    ).scalars()
    levels: dict[int, list[tuple[int, list[str]]]] = {}
    for data in events:
        if data.get("task_id") in tasks:
            levels.setdefault(data["task_id"], []).append(
                (data.get("level", 0), data.get("recipients") or [])
            )
    return {
        task_id: list(dict.fromkeys(r for _, recipients in sorted(found) for r in recipients))
        for task_id, found in levels.items()
    }


def units_in_reach(user: User) -> list[OrgUnit]:
    """The units a supervisor may filter by (their subtree), in tree order."""
    if user.org_unit is None:
        return []
    if user.role != "supervisor":
        return [user.org_unit]
    return list(
        db.session.scalars(
            select(OrgUnit)
            .where(OrgUnit.path.startswith(user.org_unit.path, autoescape=True))
            .order_by(cast(OrgUnit.path, String))
        )
    )
