"""The overdue scan: warn before the deadline, then climb the ladder of the deadline's clock.

Each task runs on the clock of its deadline (caseflow/workflow/ladder.py reads both ladders
from the workflow file). Hours (the 12-hour emergency rules): the agency and the commune chair
are warned before; at the breach the agency, the chair and the province's supervisors are told
at once, never through a digest; the reminder repeats every few hours until the task is done.
Working days: each level some working days after the deadline, sent only in office hours on
working days; supervisors who chose a digest get these in it.

Each task carries `next_escalation_at`, the moment its next rung is due, so a scan reads one
range of a partial index (ix_tasks_next_escalation), whatever the size of the tasks table.

At most once per (task, rung), however many scans run at once: each task is claimed with
`UPDATE tasks SET escalation_level = :new ... WHERE id = :id AND escalation_level = :seen`,
and only the scan whose UPDATE matched writes the notifications (in the same transaction);
the unique `dedupe_key` of the outbox is the backstop.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import DateTime, Float, case, func, literal, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import selectinload

from caseflow import heartbeat
from caseflow.extensions import db
from caseflow.models import Notification, OrgUnit, Task
from caseflow.models.types import UTCDateTime, utcnow
from caseflow.notifications import obligations
from caseflow.seed_calendar import ensure_calendar_ahead
from caseflow.services import audit, outbox
from caseflow.services.calendar import load_calendar
from caseflow.services.directory import Directory, Recipient
from caseflow.services.succession import current_unit
from caseflow.workflow import current_engine
from caseflow.workflow.clock import LOCAL_TZ, WorkingCalendar
from caseflow.workflow.ladder import EscalationRules

log = logging.getLogger("caseflow.escalation")

BATCH = 500


def _utc(now: datetime | None) -> datetime:
    """Any aware moment, in UTC: SQL compares it with naive UTC columns."""
    return (now or utcnow()).astimezone(UTC)


def rules() -> EscalationRules:
    """The workflow file's ladders with the settings' numbers on top."""
    return current_engine().definition.escalation.with_settings(current_app.config)


def hours_templates() -> list[str]:
    """Task templates whose deadline runs on the wall clock; every other one runs on working days."""
    return [t.id for t in current_engine().definition.tasks.values() if t.deadline.wall_clock]


def clock_of(task: Task) -> str:
    template = current_engine().definition.tasks.get(task.template)
    if template is not None:
        return "hours" if template.deadline.wall_clock else "working_days"
    return "hours" if (task.rule or "").startswith("hours") else "working_days"


def _commune_of(task: Task) -> OrgUnit:
    """The commune that holds the task (where it happened or where the child lives), or the
    unit that took it over if it has since merged: escalation follows successors."""
    template = current_engine().definition.tasks.get(task.template)
    if template is not None and template.commune == "incident":
        return current_unit(task.case.incident_commune)
    return current_unit(task.case.residence_commune)


def _next_digest_time(now: datetime, calendar: WorkingCalendar) -> datetime:
    """The next DIGEST_HOUR (Vietnam time) on a working day."""
    hour = current_app.config.get("DIGEST_HOUR", 7)
    local = now.astimezone(LOCAL_TZ)
    moment = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if moment <= local:
        moment += timedelta(days=1)
    while not calendar.is_working_day(moment.date()):
        moment += timedelta(days=1)
    return moment


def _notification(
    kind: str, task: Task, level: int, recipient: Recipient, digest_at: datetime | None = None
) -> Notification:
    return outbox.new_row(
        kind,
        recipient.email,
        case_id=task.case_id,
        task_id=task.id,
        level=level,
        locale=recipient.locale or "vi",
        context={"unit_id": recipient.unit.id if recipient.unit else None, "kind": kind},
        digest_at=digest_at,
    )


@dataclass
class Plan:
    """What one scan does for one task: the rungs to send and when the next one is due."""

    task: Task
    commune: OrgUnit
    clock: str
    seen: int
    target: int
    steps: list[int]
    next_at: datetime | None


def _plan(task: Task, now: datetime, r: EscalationRules, calendar: WorkingCalendar) -> Plan:
    clock = clock_of(task)
    climb = r.climb(clock, task.due_at, task.escalation_level, now, calendar)
    return Plan(
        task, _commune_of(task), clock, task.escalation_level, climb.target, list(climb.steps), climb.next_at
    )


def _write_steps(plan: Plan, now: datetime, r: EscalationRules, directory: Directory, calendar) -> None:  # noqa: ANN001
    """The mails and trail events of the rungs a claimed task has reached."""
    task = plan.task
    digest_at = None
    for step in plan.steps:
        recipients = directory.resolve(r.recipients(plan.clock, step), plan.commune, task.agency_id)
        for recipient in recipients:
            if plan.clock == "hours" and step > 1:
                kind = "still_overdue"
            else:
                kind = "overdue" if recipient.agency else "escalation"
            held = None
            # Emergencies are never held for a digest; working-day levels may be.
            if plan.clock == "working_days" and r.working_days.digest and recipient.digest:
                digest_at = digest_at or _next_digest_time(now, calendar)
                held = digest_at
            db.session.add(_notification(kind, task, step, recipient, held))
        audit.add(
            task.case_id,
            "escalation",
            at=now,
            actor_label="system",
            data={
                "task_id": task.id,
                "level": step,
                "clock": plan.clock,
                "unit": plan.commune.code,
                "recipients": [x.email for x in recipients],
                "due_at": task.due_at.isoformat(),
            },
        )


def _candidates(now: datetime) -> list[int]:
    """Open tasks whose next rung has come due: one range of ix_tasks_next_escalation."""
    return list(
        db.session.scalars(
            select(Task.id)
            .where(
                Task.status == "open", Task.next_escalation_at.is_not(None), Task.next_escalation_at <= now
            )
            .order_by(Task.id)
        )
    )


def escalate_overdue(now: datetime | None = None) -> int:
    """Send every rung that has come due; returns the number of (task, rung) pairs sent."""
    now = _utc(now)
    r, calendar = rules(), load_calendar()
    ids = _candidates(now)
    sent = 0
    directory = Directory()
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        try:
            sent += _escalate_batch(chunk, now, r, calendar, directory)
        except (IntegrityError, OperationalError):
            # A row written by another path, or a deadlock with a concurrent scan: redo the
            # batch one task at a time (one row locked per transaction cannot deadlock).
            db.session.rollback()
            for task_id in chunk:
                try:
                    sent += _escalate_batch([task_id], now, r, calendar, directory)
                except (IntegrityError, OperationalError):
                    db.session.rollback()
                    log.warning("escalation of task %s already recorded elsewhere", task_id)
    return sent


def _escalate_batch(
    task_ids: list[int], now: datetime, r: EscalationRules, calendar: WorkingCalendar, directory: Directory
) -> int:
    """Claim each task's rungs with one UPDATE per (seen, target, next) group, then write the
    mails of the tasks whose claim this scan won, all in one transaction."""
    tasks = db.session.scalars(
        select(Task).where(Task.id.in_(task_ids)).order_by(Task.id).options(selectinload(Task.case))
    ).all()
    groups: dict[tuple[int, int], list[Plan]] = {}
    for task in tasks:
        plan = _plan(task, now, r, calendar)
        groups.setdefault((plan.seen, plan.target), []).append(plan)
    sent = 0
    with db.session.no_autoflush:
        for (seen, target), plans in sorted(groups.items()):
            # Each task's next moment differs (it follows its own deadline): one CASE on the id,
            # so a group is still one UPDATE, not one per task.
            # ELSE the column itself: PostgreSQL then types the CASE as the column's, even when
            # every branch is NULL (the top of a ladder).
            next_at = case(
                {p.task.id: literal(p.next_at, UTCDateTime()) for p in plans},
                value=Task.id,
                else_=Task.next_escalation_at,
            )
            claimed = set(
                db.session.scalars(
                    update(Task)
                    .where(
                        Task.id.in_([p.task.id for p in plans]),
                        Task.status == "open",
                        Task.escalation_level == seen,
                    )
                    .values(escalation_level=target, next_escalation_at=next_at)
                    .returning(Task.id)
                    .execution_options(synchronize_session=False)
                )
            )
            for plan in plans:
                if plan.task.id in claimed and plan.steps:  # others: another scan won, or the task was done
                    _write_steps(plan, now, r, directory, calendar)
                    sent += len(plan.steps)
    db.session.commit()  # the after-commit hook hands the new outbox rows to the sender
    return sent


def _warning_due(now: datetime, fraction: float) -> Any:
    """SQL: at most `fraction` of the time the task was given is left. Interval arithmetic on
    PostgreSQL (EXTRACT would go through slow numerics), julian days on SQLite."""
    moment = literal(now.replace(tzinfo=None), DateTime())
    if db.engine.dialect.name == "sqlite":
        due, created, at = (
            func.julianday(Task.due_at),
            func.julianday(Task.created_at),
            func.julianday(moment),
        )
        return due - at <= (due - created) * fraction
    return Task.due_at - moment <= literal(fraction, Float()) * (Task.due_at - Task.created_at)


def send_warnings(now: datetime | None = None) -> int:
    """Warn once before the deadline: hours tasks `warn_before_hours` ahead (the agency and the
    chair), working-day tasks when `warning_fraction` of their time is left (in office hours)."""
    now = _utc(now)
    r, calendar = rules(), load_calendar()
    wall = hours_templates()
    base = (Task.status == "open", Task.escalation_level == 0, Task.due_at > now, Task.warned_at.is_(None))
    batches: list[tuple[str, list[int]]] = []
    if r.hours.warn_before_hours > 0 and wall:
        ids = db.session.scalars(
            select(Task.id)
            .where(
                *base,
                Task.due_at <= now + timedelta(hours=r.hours.warn_before_hours),
                Task.template.in_(wall),
            )
            .order_by(Task.id)
        )
        batches.append(("hours", list(ids)))
    days = r.working_days
    if days.warning_fraction > 0 and days.in_office_hours(now, calendar):
        horizon = timedelta(hours=float(current_app.config.get("WARNING_HORIZON_HOURS", 72)))
        # The fraction test runs in SQL: tasks in the window whose warning time has not come are
        # read by every scan, and returning them all would dominate a scan with nothing new.
        ids = db.session.scalars(
            select(Task.id)
            .where(
                *base,
                Task.due_at <= now + horizon,
                Task.template.not_in(wall),
                _warning_due(now, days.warning_fraction),
            )
            .order_by(Task.id)
        )
        batches.append(("working_days", list(ids)))
    directory, sent = Directory(), 0
    for clock, due_ids in batches:
        words = r.warn(clock)
        for start in range(0, len(due_ids), BATCH):
            chunk = due_ids[start : start + BATCH]
            claimed = set(
                db.session.scalars(
                    update(Task)
                    .where(Task.id.in_(chunk), Task.warned_at.is_(None), Task.status == "open")
                    .values(warned_at=now)
                    .returning(Task.id)
                    .execution_options(synchronize_session=False)
                )
            )
            tasks = db.session.scalars(
                select(Task).where(Task.id.in_(claimed)).order_by(Task.id).options(selectinload(Task.case))
            )
            for task in tasks:
                recipients = directory.resolve(words, _commune_of(task), task.agency_id)
                for recipient in recipients:
                    db.session.add(_notification("warning", task, 0, recipient))
                audit.add(
                    task.case_id,
                    "notification",
                    at=now,
                    actor_label="system",
                    data={
                        "task_id": task.id,
                        "warning": True,
                        "clock": clock,
                        "recipients": [x.email for x in recipients],
                        "due_at": task.due_at.isoformat(),
                    },
                )
                sent += 1
            db.session.commit()
    return sent


def run_scan(now: datetime | None = None) -> dict:
    """One scan: sweep first (so rows this scan writes are not handed over twice), then the
    warnings, the ladder and the digests that have come due."""
    started = time.monotonic()
    now = _utc(now)
    # A new year coming into range seeds its holidays before any deadline near it is computed.
    stats = {"calendar_refreshed": int(ensure_calendar_ahead(now.astimezone(LOCAL_TZ).date()))}
    stats["swept"] = outbox.sweep(now)
    stats["warnings"] = send_warnings(now)
    stats["escalations"] = escalate_overdue(now)
    if current_app.config.get("REPORT_OBLIGATIONS_SCAN", True):
        stats.update(obligations.scan(now))  # the reports communes owe climb the same ladder
    stats["digests"] = outbox.send_due_digests(now)
    heartbeat.record_scan(time.monotonic() - started)
    return stats


def start_background_scanner(app: Flask, interval: int) -> threading.Thread:
    """The embedded default only (no Redis, no worker): scan every `interval` seconds in a
    daemon thread of the serving process. With Redis, RQ's scheduler runs the scan instead."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            with app.app_context():
                try:
                    run_scan()
                except Exception:
                    log.exception("overdue scan failed; trying again in %s s", interval)
                    db.session.rollback()
                finally:
                    db.session.remove()

    thread = threading.Thread(target=loop, name="caseflow-scan", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread
