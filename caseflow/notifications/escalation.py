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

Reads go through ix_tasks_status_level_due, one exact range per level, so a scan with
nothing new costs a few index probes whatever the size of the tasks table.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from caseflow.extensions import db
from caseflow.models import Agency, CaseEvent, Notification, OrgUnit, Task, User
from caseflow.models.types import utcnow
from caseflow.notifications import dispatch, dispatch_digests
from caseflow.notifications.delivery import DIGEST_KIND, claimable
from caseflow.notifications.render import LOCAL_TZ
from caseflow.workflow import current_engine

log = logging.getLogger("caseflow.escalation")

BATCH = 500
SWEEP_LIMIT = 5000


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
            cache[unit_id] = list(db.session.scalars(
                select(User).where(User.org_unit_id == unit_id, User.role == role, User.active.is_(True))
                .order_by(User.id)))
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
    """Levels beyond the chair: the most ancestors any commune has (2 since 2025, 3 with districts)."""
    depth, frontier = 0, [u.id for u in db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id.is_(None)))]
    while frontier:
        frontier = list(db.session.scalars(select(OrgUnit.id).where(OrgUnit.parent_id.in_(frontier))))
        depth += 1 if frontier else 0
    return depth


def _candidates(now: datetime, t: Timing) -> list[int]:
    """Ids of open tasks whose next level has come due: one exact index range per level."""
    ids: list[int] = []
    top = 2 + _max_depth()  # agency, chair and the units above the commune
    for seen in range(top):
        bound = now - t.reminder_after - seen * t.interval
        ids += db.session.scalars(
            select(Task.id).where(Task.status == "open", Task.escalation_level == seen, Task.due_at <= bound)
        ).all()
    return sorted(set(ids))


def _next_digest_time(now: datetime) -> datetime:
    hour = current_app.config.get("DIGEST_HOUR", 7)
    local = now.astimezone(LOCAL_TZ)
    moment = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if moment <= local:
        moment += timedelta(days=1)
    return moment


def _notification(kind: str, task: Task, level: int, email: str, locale: str,
                  unit: OrgUnit | None, digest_at: datetime | None = None) -> Notification:
    return Notification(
        dedupe_key=f"{kind}:{task.id}:{level}:{email}"[:200],
        kind=DIGEST_KIND if digest_at else kind,
        case_id=task.case_id, task_id=task.id, level=level, recipient=email, locale=locale or "vi",
        context={"unit_id": unit.id if unit else None, "kind": kind},
        status="pending", attempts=0, next_attempt_at=digest_at,
    )


def _escalate_task(task: Task, now: datetime, t: Timing, ladder: Ladder) -> int:
    """Claim the levels due for one task and write their mails and events; returns levels sent."""
    definition = current_engine().definition
    template = definition.tasks.get(task.template)
    case = task.case
    if template is not None and template.commune == "incident":
        commune = case.incident_commune
    else:
        commune = case.residence_commune
    rungs = ladder.rungs(commune)
    top = 1 + len(rungs)
    seen = task.escalation_level
    target = _due_level(task.due_at, now, t, top)
    if target <= seen:
        return 0
    claimed = db.session.execute(
        update(Task).where(Task.id == task.id, Task.status == "open", Task.escalation_level == seen)
        .values(escalation_level=target).execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return 0  # another scan got there first, or the task was just done
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
                db.session.add(_notification("escalation", task, level, user.email, user.locale, unit,
                                             digest_at if user.daily_digest else None))
                recipients.append(user.email)
        db.session.add(CaseEvent(
            case_id=task.case_id, at=now, actor_label="system", kind="escalation",
            data={"task_id": task.id, "level": level, "unit": unit.code if unit else None,
                  "recipients": recipients, "due_at": task.due_at.isoformat()},
        ))
    return target - seen


def escalate_overdue(now: datetime | None = None) -> int:
    """Send every level that has come due; returns the number of (task, level) pairs sent."""
    now = now or utcnow()
    t = timing()
    ids = _candidates(now, t)
    sent = 0
    ladder = Ladder()
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        try:
            sent += _escalate_batch(chunk, now, t, ladder)
        except IntegrityError:
            # A row of the batch was written by another path already: redo one task at a time.
            db.session.rollback()
            for task_id in chunk:
                try:
                    sent += _escalate_batch([task_id], now, t, ladder)
                except IntegrityError:
                    db.session.rollback()
                    log.warning("escalation of task %s already recorded elsewhere", task_id)
    return sent


def _escalate_batch(task_ids: list[int], now: datetime, t: Timing, ladder: Ladder) -> int:
    sent = 0
    tasks = db.session.scalars(select(Task).where(Task.id.in_(task_ids)).order_by(Task.id)
                               .options(selectinload(Task.case))).all()
    with db.session.no_autoflush:
        for task in tasks:
            sent += _escalate_task(task, now, t, ladder)
    db.session.commit()  # the after-commit hook hands the new outbox rows to the sender
    return sent


def send_warnings(now: datetime | None = None) -> int:
    """Warn the agency once when `warning_fraction` of the time it was given is left."""
    now = now or utcnow()
    t = timing()
    if t.warning_fraction <= 0:
        return 0
    rows = db.session.scalars(
        select(Task).where(Task.status == "open", Task.escalation_level == 0,
                           Task.due_at > now, Task.due_at <= now + t.warning_horizon,
                           Task.warned_at.is_(None))
        .order_by(Task.id)
    ).all()
    ladder, sent = Ladder(), 0
    for task in rows:
        lead = min((task.due_at - task.created_at) * t.warning_fraction, t.warning_horizon)
        if now < task.due_at - lead:
            continue
        claimed = db.session.execute(
            update(Task).where(Task.id == task.id, Task.warned_at.is_(None), Task.status == "open")
            .values(warned_at=now).execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            continue
        agency = ladder.agency(task.agency_id)
        db.session.add(_notification("warning", task, 0, agency.email, agency.locale, None))
        db.session.add(CaseEvent(case_id=task.case_id, at=now, actor_label="system", kind="notification",
                                 data={"task_id": task.id, "warning": True, "recipients": [agency.email],
                                       "due_at": task.due_at.isoformat()}))
        sent += 1
        if sent % BATCH == 0:
            db.session.commit()
    db.session.commit()
    return sent


def sweep(now: datetime | None = None) -> int:
    """Hand over again rows nobody is sending: Redis was down at commit, a worker died, a
    retry's job was lost. The grace keeps rows that were just handed over out of it."""
    now = now or utcnow()
    grace = timedelta(seconds=current_app.config.get("SWEEP_GRACE_SECONDS", 120))
    settled = now - grace
    ids = list(db.session.scalars(
        select(Notification.id).where(
            Notification.kind != DIGEST_KIND, claimable(now),
            or_(and_(Notification.next_attempt_at.is_(None), Notification.created_at <= settled),
                Notification.next_attempt_at <= settled),
        ).order_by(Notification.id).limit(SWEEP_LIMIT)
    ))
    db.session.commit()
    dispatch(ids)
    return len(ids)


def send_due_digests(now: datetime | None = None) -> int:
    now = now or utcnow()
    recipients = list(db.session.scalars(
        select(Notification.recipient).where(Notification.kind == DIGEST_KIND, claimable(now))
        .group_by(Notification.recipient)
    ))
    db.session.commit()
    dispatch_digests(recipients)
    return len(recipients)


def run_scan(now: datetime | None = None) -> dict:
    """One scan: sweep first (so rows this scan writes are not handed over twice), then the
    warnings, the ladder and the digests that have come due."""
    now = now or utcnow()
    stats = {"swept": sweep(now)}
    stats["warnings"] = send_warnings(now)
    stats["escalations"] = escalate_overdue(now)
    stats["digests"] = send_due_digests(now)
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
