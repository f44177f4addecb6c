"""Reporting obligations on the overdue ladder: warned before the due day, escalated when late.

A report a commune owes climbs the ladder the workflow file declares for it (`reports.escalation`,
one ladder per clock, in the format of the tasks' `escalation:`), through the same code as a task:
`EscalationRules.climb` says which levels a due moment has reached (in office hours on working
days for the working-day clock), and `Directory` says who each word means. The same at-most-once
claim as tasks: each level is claimed with `UPDATE ... WHERE escalation_level = :seen`, and only
the scan whose claim matched writes the mails, through the outbox, in the same transaction.
What the mails say is caseflow/notifications/render.py's. Called by run_scan.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from caseflow.extensions import db
from caseflow.models import Notification, ReportObligation
from caseflow.models.types import utcnow
from caseflow.services import obligations, outbox
from caseflow.services.calendar import load_calendar
from caseflow.services.directory import Directory, Recipient
from caseflow.services.succession import current_unit
from caseflow.workflow import current_engine
from caseflow.workflow.clock import LOCAL_TZ, WorkingCalendar
from caseflow.workflow.lists import ReportSettings

WARNING = "obligation_warning"
OVERDUE = "obligation_overdue"
KINDS = (WARNING, OVERDUE)


def _mail(kind: str, row: ReportObligation, level: int, recipient: Recipient) -> Notification:
    return outbox.new_row(
        kind,
        recipient.email,
        case_id=None,
        level=level,
        locale=recipient.locale,
        # A report has no case or task: its own id is the occasion that makes the key unique.
        dedupe=outbox.dedupe_key(kind, None, None, level, recipient.email, f"obligation-{row.id}"),
        context={"obligation_id": row.id, "unit_id": recipient.unit.id if recipient.unit else None},
    )


def send_warnings(now: datetime, settings: ReportSettings, calendar: WorkingCalendar) -> int:
    """Tell the ladder's `warn` people once, `warn_days_before` days before the due moment (on
    the working-day clock, in office hours); returns the reports warned about."""
    lead = timedelta(days=settings.warn_days_before)
    rules = settings.escalation
    rows = db.session.scalars(
        select(ReportObligation).where(
            ReportObligation.submitted_at.is_(None),
            ReportObligation.warned_at.is_(None),
            ReportObligation.escalation_level == 0,
            ReportObligation.due_at > now,
            ReportObligation.due_at <= now + lead,
        )
    ).all()
    due = [
        row
        for row in rows
        if settings.clock_of(row.code) == "hours" or rules.working_days.in_office_hours(now, calendar)
    ]
    if not due:
        return 0
    claimed = set(
        db.session.scalars(
            update(ReportObligation)
            .where(ReportObligation.id.in_([row.id for row in due]), ReportObligation.warned_at.is_(None))
            .values(warned_at=now)
            .returning(ReportObligation.id)
            .execution_options(synchronize_session=False)
        )
    )
    directory, sent = Directory(), 0
    for row in due:
        if row.id not in claimed:  # another scan warned first
            continue
        words = rules.warn(settings.clock_of(row.code))
        for recipient in directory.resolve(words, current_unit(row.org_unit)):
            db.session.add(_mail(WARNING, row, 0, recipient))
        sent += 1
    db.session.commit()
    return sent


def escalate(now: datetime, settings: ReportSettings, calendar: WorkingCalendar) -> int:
    """Send every ladder level that has come due for an unsubmitted report; returns levels sent."""
    rules, directory, sent = settings.escalation, Directory(), 0
    rows = db.session.scalars(
        select(ReportObligation)
        # A report already late when CaseFlow started tracking it (an installation in
        # December, a commune added after the due day) is listed as overdue but not chased:
        # nobody was told it was due, and it may well have gone on paper.
        .where(obligations.unsubmitted_due(now), ReportObligation.created_at < ReportObligation.due_at)
        .order_by(ReportObligation.id)
    ).all()
    for row in rows:
        clock, seen = settings.clock_of(row.code), row.escalation_level
        climb = rules.climb(clock, row.due_at, seen, now, calendar)
        if not climb.steps:
            continue
        claim = db.session.execute(
            update(ReportObligation)
            .where(
                ReportObligation.id == row.id,
                ReportObligation.escalation_level == seen,
                ReportObligation.submitted_at.is_(None),
            )
            .values(escalation_level=climb.target)
            .execution_options(synchronize_session=False)
        )
        if claim.rowcount != 1:  # another scan got there first, or it was just submitted
            db.session.rollback()
            continue
        # The commune that owes it, or the one it merged into: escalation follows successors.
        commune = current_unit(row.org_unit)
        for step in climb.steps:
            for recipient in directory.resolve(rules.recipients(clock, step), commune):
                db.session.add(_mail(OVERDUE, row, step, recipient))
            sent += 1
        db.session.commit()
    return sent


def scan(now: datetime | None = None) -> dict:
    """The obligations' part of the overdue scan: this year's rows exist, then warnings, then the ladder."""
    now = now or utcnow()
    definition = current_engine().definition
    settings, calendar = definition.lists.reports, load_calendar()
    obligations.ensure(definition, now.astimezone(LOCAL_TZ).year)
    return {
        "obligation_warnings": send_warnings(now, settings, calendar),
        "obligation_escalations": escalate(now, settings, calendar),
    }
