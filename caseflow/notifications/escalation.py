"""The overdue scan: warn before the deadline, then climb the jurisdiction tree level by level.

Level 1 reminds the task's agency; level 2 tells the chair(s) of the commune that holds
the task; each further level tells the supervisors of the next unit up (district, if the
commune still has one, then province). Level L is due `reminder_after_hours +
(L-1) * interval_hours` after the deadline. A scan sends every level that has come due,
so a task found days late reaches the province in one scan.

At most once per (task, level), however many scans run at once: each task is claimed with
`UPDATE tasks SET escalation_level = :new WHERE id = :id AND escalation_level = :seen`,
and only the scan whose UPDATE matched writes the notifications (in the same transaction);
the unique `dedupe_key` of the outbox is the backstop.

Reads go through two partial indexes on open tasks (ix_tasks_escalation: one exact range
per level; ix_tasks_warning: the tasks not yet warned), answered from the index alone, so a
scan with nothing new costs a few index probes whatever the size of the tasks table.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import DateTime, Float, func, literal, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import selectinload

from caseflow import heartbeat
from caseflow.extensions import db
from caseflow.models import Agency, Notification, OrgUnit, Task, User
from caseflow.models.types import utcnow
from caseflow.services import audit, outbox
from caseflow.workflow import current_engine
from caseflow.workflow.clock import LOCAL_TZ

log = logging.getLogger("caseflow.escalation")

BATCH = 500


@dataclass(frozen=True)
class Timing:
    reminder_after: timedelta
    interval: timedelta
    warning_fraction: float
    warning_horizon: timedelta


def timing() -> Timing:
    """Settings win over the workflow file's defaults."""
    esc = current_engine().definition.escalation
    config = current_app.config
    interval = config.get("ESCALATION_INTERVAL_HOURS")
    fraction = config.get("WARNING_FRACTION")
    return Timing(
        reminder_after=timedelta(hours=esc.reminder_after_hours),
        interval=timedelta(hours=float(interval) if interval not in (None, "") else esc.interval_hours),
        warning_fraction=float(fraction) if fraction not in (None, "") else esc.warning_fraction,
        warning_horizon=timedelta(hours=float(config.get("WARNING_HORIZON_HOURS", 72))),
    )


@dataclass
class Rung:
    """One level of the ladder: who hears, and for which unit."""

    level: int
    unit: OrgUnit | None
    users: list[User] = field(default_factory=list)


class Ladder:
    """Builds and caches the ladder of each commune for one scan."""

    def __init__(self) -> None:
        self._chairs: dict[int, list[User]] = {}
        self._supervisors: dict[int, list[User]] = {}
        self._agencies: dict[int, Agency] = {}

    def agency(self, agency_id: int) -> Agency:
        if agency_id not in self._agencies:
            self._agencies[agency_id] = db.session.get(Agency, agency_id)
        return self._agencies[agency_id]

    def _users(self, cache: dict, unit_id: int, role: str) -> list[User]:
        if unit_id not in cache:
            cache[unit_id] = list(
                db.session.scalars(
                    select(User)
                    .where(User.org_unit_id == unit_id, User.role == role, User.active.is_(True))
                    .order_by(User.id)
                )
            )
        return cache[unit_id]

    def rungs(self, commune: OrgUnit) -> list[Rung]:
        """Levels 2 and up (level 1 is the agency). Units that do not exist are no level at all."""
        rungs = [Rung(2, commune, self._users(self._chairs, commune.id, "chair"))]
        for unit in commune.ancestors():
            rungs.append(Rung(len(rungs) + 2, unit, self._users(self._supervisors, unit.id, "supervisor")))
        return rungs


def _due_level(due_at: datetime, now: datetime, t: Timing, top: int) -> int:
    """The highest level whose time has come (0: not yet overdue enough)."""
    late = now - due_at - t.reminder_after
    if late < timedelta(0):
        return 0
    return min(top, 1 + int(late / t.interval) if t.interval > timedelta(0) else top)


def _max_depth() -> int:
    """Levels beyond the chair: the most ancestors any unit has (2 with districts, 1 without).
    `path` is "/P/D/C/": its slashes count the levels, in one query on either backend."""
    slashes = func.length(OrgUnit.path) - func.length(func.replace(OrgUnit.path, "/", ""))
    return max((db.session.scalar(select(func.max(slashes))) or 2) - 2, 0)


def _candidates(now: datetime, t: Timing) -> list[int]:
    """Ids of open tasks whose next level has come due: one exact range of
    ix_tasks_escalation per level (separate queries, so no planner can turn them
    into one wide range over every overdue task)."""
    ids: list[int] = []
    for seen in range(2 + _max_depth()):  # agency, chair and the units above the commune
        bound = now - t.reminder_after - seen * t.interval
        ids += db.session.scalars(
            select(Task.id).where(Task.status == "open", Task.escalation_level == seen, Task.due_at <= bound)
        ).all()
    return sorted(ids)


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


def _next_digest_time(now: datetime) -> datetime:
    hour = current_app.config.get("DIGEST_HOUR", 7)
    local = now.astimezone(LOCAL_TZ)
    moment = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if moment <= local:
        moment += timedelta(days=1)
    return moment


def _notification(
    kind: str,
    task: Task,
    level: int,
    email: str,
    locale: str,
    unit: OrgUnit | None,
    digest_at: datetime | None = None,
) -> Notification:
    return outbox.new_row(
        kind,
        email,
        case_id=task.case_id,
        task_id=task.id,
        level=level,
        locale=locale,
        context={"unit_id": unit.id if unit else None, "kind": kind},
        digest_at=digest_at,
    )


def _commune_of(task: Task) -> OrgUnit:
    """The commune that holds the task: where it happened or where the child lives."""
    template = current_engine().definition.tasks.get(task.template)
    if template is not None and template.commune == "incident":
        return task.case.incident_commune
    return task.case.residence_commune


def _write_levels(
    task: Task, commune: OrgUnit, rungs: list[Rung], seen: int, target: int, now: datetime, ladder: Ladder
) -> None:
    """The mails and trail events of levels seen+1..target, for a task this scan has claimed."""
    digest_at = None
    for level in range(seen + 1, target + 1):
        if level == 1:
            agency = ladder.agency(task.agency_id)
            db.session.add(_notification("overdue", task, 1, agency.email, agency.locale, commune))
            recipients, unit = [agency.email], commune
        else:
            rung = rungs[level - 2]
            unit, recipients = rung.unit, []
            for user in rung.users:
                if user.daily_digest:
                    digest_at = digest_at or _next_digest_time(now)
                db.session.add(
                    _notification(
                        "escalation",
                        task,
                        level,
                        user.email,
                        user.locale,
                        unit,
                        digest_at if user.daily_digest else None,
                    )
                )
                recipients.append(user.email)
        audit.add(
            task.case_id,
            "escalation",
            at=now,
            actor_label="system",
            data={
                "task_id": task.id,
                "level": level,
                "unit": unit.code if unit else None,
                "recipients": recipients,
                "due_at": task.due_at.isoformat(),
            },
        )


def escalate_overdue(now: datetime | None = None) -> int:
    """Send every level that has come due; returns the number of (task, level) pairs sent."""
    now = now or utcnow()
    t = timing()
    ids = _candidates(now, t)
    sent = 0
    ladder = Ladder()
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        try:
            sent += _escalate_batch(chunk, now, t, ladder)
        except (IntegrityError, OperationalError):
            # A row written by another path, or a deadlock with a concurrent scan: redo the
            # batch one task at a time (one row locked per transaction cannot deadlock).
            db.session.rollback()
            for task_id in chunk:
                try:
                    sent += _escalate_batch([task_id], now, t, ladder)
                except (IntegrityError, OperationalError):
                    db.session.rollback()
                    log.warning("escalation of task %s already recorded elsewhere", task_id)
    return sent


def _escalate_batch(task_ids: list[int], now: datetime, t: Timing, ladder: Ladder) -> int:
    """Claim each task's due levels with one UPDATE per (seen, target) group, then write the
    mails of the tasks whose claim this scan won, all in one transaction."""
    tasks = db.session.scalars(
        select(Task).where(Task.id.in_(task_ids)).order_by(Task.id).options(selectinload(Task.case))
    ).all()
    groups: dict[tuple[int, int], list[tuple[Task, OrgUnit, list[Rung]]]] = {}
    for task in tasks:
        commune = _commune_of(task)
        rungs = ladder.rungs(commune)
        target = _due_level(task.due_at, now, t, 1 + len(rungs))
        if target > task.escalation_level:
            groups.setdefault((task.escalation_level, target), []).append((task, commune, rungs))
    sent = 0
    with db.session.no_autoflush:
        for (seen, target), items in sorted(groups.items()):
            claimed = set(
                db.session.scalars(
                    update(Task)
                    .where(
                        Task.id.in_([task.id for task, _, _ in items]),
                        Task.status == "open",
                        Task.escalation_level == seen,
                    )
                    .values(escalation_level=target)
                    .returning(Task.id)
                    .execution_options(synchronize_session=False)
                )
            )
            for task, commune, rungs in items:
                if task.id in claimed:  # the others: another scan got there first, or the task was done
                    _write_levels(task, commune, rungs, seen, target, now, ladder)
                    sent += target - seen
    db.session.commit()  # the after-commit hook hands the new outbox rows to the sender
    return sent


def send_warnings(now: datetime | None = None) -> int:
    """Warn the agency once when `warning_fraction` of the time it was given is left."""
    now = now or utcnow()
    t = timing()
    if t.warning_fraction <= 0:
        return 0
    # The fraction test runs in SQL: tasks in the window whose warning time has not come are
    # read by every scan, and returning them all would dominate a scan with nothing new.
    due_ids = list(
        db.session.scalars(
            select(Task.id)
            .where(
                Task.status == "open",
                Task.escalation_level == 0,
                Task.due_at > now,
                Task.due_at <= now + t.warning_horizon,
                Task.warned_at.is_(None),
                _warning_due(now, t.warning_fraction),
            )  # lead: min(fraction of the time given, horizon)
            .order_by(Task.id)
        )
    )
    ladder, sent = Ladder(), 0
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
        for task in db.session.scalars(select(Task).where(Task.id.in_(claimed)).order_by(Task.id)):
            agency = ladder.agency(task.agency_id)
            db.session.add(_notification("warning", task, 0, agency.email, agency.locale, None))
            audit.add(
                task.case_id,
                "notification",
                at=now,
                actor_label="system",
                data={
                    "task_id": task.id,
                    "warning": True,
                    "recipients": [agency.email],
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
    now = now or utcnow()
    stats = {"swept": outbox.sweep(now)}
    stats["warnings"] = send_warnings(now)
    stats["escalations"] = escalate_overdue(now)
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
