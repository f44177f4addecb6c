"""The periodic reports each commune owes (the workflow file's `reports.obligations`), as deadlines.

An obligation row exists per commune, report and year, made when first needed (a listing or the
overdue scan), so a commune created mid-year owes that year's remaining reports without a job
to run. Submitting freezes the figures as they stood: the report the higher level received.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import and_, false, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import contains_eager

from caseflow.extensions import db
from caseflow.models import OrgUnit, ReportObligation, User
from caseflow.models.types import utcnow
from caseflow.services import reports
from caseflow.services.errors import Conflict, NotFound
from caseflow.workflow.clock import LOCAL_TZ
from caseflow.workflow.definition import WorkflowDefinition
from caseflow.workflow.lists import ObligationDef


def due_moment(day: date) -> datetime:
    """The end of the due day in Vietnam time, as working-day deadlines end."""
    return datetime.combine(day, time(23, 59, 59), LOCAL_TZ).astimezone(UTC)


def ensure(definition: WorkflowDefinition, year: int) -> None:
    """Make the year's obligation rows of every commune that exists during the period and lacks them.

    Insert-if-absent on the unique (unit, report, year): two processes doing it at once both
    succeed and leave one row each."""
    wanted = [o for o in definition.lists.reports.obligations if o.enabled]
    if not wanted:
        return
    have = {
        (unit_id, code)
        for unit_id, code in db.session.execute(
            select(ReportObligation.org_unit_id, ReportObligation.code).where(ReportObligation.year == year)
        )
    }
    communes = db.session.execute(
        select(OrgUnit.id, OrgUnit.valid_from, OrgUnit.valid_to).where(OrgUnit.level == "commune")
    ).all()
    rows = []
    for obligation in wanted:
        start, end = obligation.period(year)
        for unit_id, valid_from, valid_to in communes:
            if (unit_id, obligation.code) in have or not _exists_during(valid_from, valid_to, start, end):
                continue
            rows.append(_row(obligation, unit_id, year))
    if not rows:
        return
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(ReportObligation).values(rows).on_conflict_do_nothing())
    db.session.commit()


def _exists_during(valid_from: date | None, valid_to: date | None, start: date, end: date) -> bool:
    """A commune merged away before the period, or created after it, owes nothing for it."""
    return (valid_from is None or valid_from <= end) and (valid_to is None or valid_to >= start)


def _row(obligation: ObligationDef, unit_id: int, year: int) -> dict[str, Any]:
    start, end = obligation.period(year)
    return {
        "org_unit_id": unit_id,
        "code": obligation.code,
        "year": year,
        "period_from": start,
        "period_to": end,
        "due_at": due_moment(obligation.due_day(year)),
        "escalation_level": 0,
        "created_at": utcnow(),
    }


def _scope(user: User) -> Any:
    if user.role == "supervisor" and user.org_unit is not None:
        return ReportObligation.org_unit_id.in_(
            select(OrgUnit.id).where(OrgUnit.path.startswith(user.org_unit.path, autoescape=True))
        )
    if user.role in ("officer", "chair") and user.org_unit_id:
        return ReportObligation.org_unit_id == user.org_unit_id
    return false()


def obligation_json(
    definition: WorkflowDefinition, row: ReportObligation, now: datetime, locale: str
) -> dict:
    known = {o.code: o for o in definition.lists.reports.obligations}
    label = known[row.code].label.get(locale, row.code) if row.code in known else row.code
    return {
        "id": row.id,
        "org_unit": row.org_unit.code,
        "org_unit_name": row.org_unit.name,
        "period": row.code,
        "label": label,
        "year": row.year,
        "from": row.period_from.isoformat(),
        "to": row.period_to.isoformat(),
        "due_at": row.due_at.isoformat(),
        "status": row.status(now),
        "submitted_at": row.submitted_at.isoformat() if row.submitted_at else None,
        "escalation_level": row.escalation_level,
    }


def rows_for_user(definition: WorkflowDefinition, user: User, year: int) -> list[ReportObligation]:
    ensure(definition, year)
    # The unit filled from the join the order needs already: one lazy load per commune was
    # most of the page's time.
    return list(
        db.session.scalars(
            select(ReportObligation)
            .join(ReportObligation.org_unit)
            .options(contains_eager(ReportObligation.org_unit))
            .where(ReportObligation.year == year, _scope(user))
            .order_by(ReportObligation.due_at, OrgUnit.code, ReportObligation.id)
        )
    )


def for_user(definition: WorkflowDefinition, user: User, year: int) -> list[dict]:
    now = utcnow()
    return [
        obligation_json(definition, r, now, user.locale or "vi")
        for r in rows_for_user(definition, user, year)
    ]


def submit(definition: WorkflowDefinition, user: User, obligation_id: int) -> dict:
    """Mark the report submitted by the commune's officer or chair, with its figures frozen."""
    row = (
        db.session.scalar(select(ReportObligation).where(ReportObligation.id == obligation_id, _scope(user)))
        if 0 < obligation_id < 2**31
        else None
    )
    if row is None or user.role not in ("officer", "chair"):
        raise NotFound("No such report obligation")
    if row.submitted_at is not None:
        raise Conflict("This report was submitted already")
    now = utcnow()
    figures = reports.compute(definition, row.org_unit, reports.Period(row.period_from, row.period_to))
    result = db.session.execute(
        update(ReportObligation)
        .where(ReportObligation.id == row.id, ReportObligation.submitted_at.is_(None))
        .values(submitted_at=now, submitted_by_id=user.id, figures=figures)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise Conflict("This report was submitted already")
    db.session.commit()
    db.session.refresh(row)
    return {**obligation_json(definition, row, now, user.locale or "vi"), "figures": row.figures}


def unsubmitted_due(now: datetime) -> Any:
    """SQL: obligations not submitted whose due moment has passed."""
    return and_(ReportObligation.submitted_at.is_(None), ReportObligation.due_at <= now)
