"""Reporting obligations on the overdue ladder: warned before the due day, escalated when late.

The rungs of a task held by the commune (the commune's chair, then the supervisors of each unit
above it), one a day, and the same at-most-once claim as tasks: each
level is claimed with `UPDATE ... WHERE escalation_level = :seen`, and only the scan whose claim
matched writes the mails, through the outbox, in the same transaction. Called by run_scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, render_template
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from caseflow.extensions import db
from caseflow.models import Notification, OrgUnit, ReportObligation, User
from caseflow.models.types import utcnow
from caseflow.notifications.render import Rendered, _labels, format_due, locale_of, mail_locale
from caseflow.services import obligations
from caseflow.workflow import current_engine
from caseflow.workflow.clock import LOCAL_TZ

WARNING = "obligation_warning"
OVERDUE = "obligation_overdue"
KINDS = (WARNING, OVERDUE)

MESSAGES = {
    WARNING: {
        "vi": ("Sắp đến hạn nộp {report} ({unit})", "{unit} cần nộp {report} trước hạn dưới đây."),
        "en": ("{report} due soon ({unit})", "{unit} has to submit the {report} by the deadline below."),
    },
    OVERDUE: {
        "vi": ("Quá hạn nộp {report} (cấp {level}): {unit}", "{unit} chưa nộp {report} đã quá hạn."),
        "en": (
            "{report} overdue (level {level}): {unit}",
            "{unit} has not submitted the {report}; it is overdue.",
        ),
    },
}
TEXTS = {
    "vi": {"report": "Báo cáo", "period": "Kỳ báo cáo", "open": "Xem các báo cáo"},
    "en": {"report": "Report", "period": "Period", "open": "See the reports"},
}


def _commune_staff(unit_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.org_unit_id == unit_id, User.role.in_(("officer", "chair")), User.active.is_(True))
            .order_by(User.id)
        )
    )


# A late report climbs one unit a day: the commune's chair when the due moment passes, the
# supervisors of each unit above it a day apart. (Tasks' working-day ladder counts office hours
# and working days; reports are due on fixed dates and keep this simpler daily step.)
LEVEL_INTERVAL = timedelta(hours=24)


@dataclass(frozen=True)
class Rung:
    unit: OrgUnit
    users: list[User]


class _Rungs:
    """The ladder above each commune for one scan, cached per unit."""

    def __init__(self) -> None:
        self._users: dict[tuple[int, str], list[User]] = {}

    def _of(self, unit_id: int, role: str) -> list[User]:
        if (unit_id, role) not in self._users:
            self._users[unit_id, role] = list(
                db.session.scalars(
                    select(User)
                    .where(User.org_unit_id == unit_id, User.role == role, User.active.is_(True))
                    .order_by(User.id)
                )
            )
        return self._users[unit_id, role]

    def rungs(self, commune: OrgUnit) -> list[Rung]:
        rungs = [Rung(commune, self._of(commune.id, "chair"))]
        rungs += [Rung(unit, self._of(unit.id, "supervisor")) for unit in commune.ancestors()]
        return rungs


def _due_level(due_at: datetime, now: datetime, top: int) -> int:
    """The highest level whose time has come (0: not yet late)."""
    if now < due_at:
        return 0
    return min(top, 1 + int((now - due_at) / LEVEL_INTERVAL))


def _mail(kind: str, row: ReportObligation, level: int, user: User, unit: OrgUnit | None) -> Notification:
    return Notification(
        dedupe_key=f"{kind}:{row.id}:{level}:{user.email}"[:200],
        kind=kind,
        level=level,
        recipient=user.email,
        locale=user.locale or "vi",
        context={"obligation_id": row.id, "unit_id": unit.id if unit else None},
        status="pending",
        attempts=0,
    )


def send_warnings(now: datetime) -> int:
    """Tell the commune's officers and chair once, `warn_days_before` days before the due day."""
    lead = timedelta(days=current_engine().definition.lists.reports.warn_days_before)
    ids = list(
        db.session.scalars(
            select(ReportObligation.id).where(
                ReportObligation.submitted_at.is_(None),
                ReportObligation.warned_at.is_(None),
                ReportObligation.escalation_level == 0,
                ReportObligation.due_at > now,
                ReportObligation.due_at <= now + lead,
            )
        )
    )
    if not ids:
        return 0
    claimed = set(
        db.session.scalars(
            update(ReportObligation)
            .where(ReportObligation.id.in_(ids), ReportObligation.warned_at.is_(None))
            .values(warned_at=now)
            .returning(ReportObligation.id)
            .execution_options(synchronize_session=False)
        )
    )
    sent = 0
    for row in db.session.scalars(select(ReportObligation).where(ReportObligation.id.in_(claimed))):
        for user in _commune_staff(row.org_unit_id):
            db.session.add(_mail(WARNING, row, 0, user, row.org_unit))
            sent += 1
    db.session.commit()
    return sent


def escalate(now: datetime) -> int:
    """Send every ladder level that has come due for an unsubmitted report; returns levels sent."""
    directory, sent = _Rungs(), 0
    rows = list(
        db.session.scalars(
            select(ReportObligation)
            # A report already late when CaseFlow started tracking it (an installation in
            # December, a commune added after the due day) is listed as overdue but not chased:
            # nobody was told it was due, and it may well have gone on paper.
            .where(obligations.unsubmitted_due(now), ReportObligation.created_at < ReportObligation.due_at)
            .order_by(ReportObligation.id)
        )
    )
    for row in rows:
        rungs = directory.rungs(row.org_unit)  # level 1: the commune's chair; then each unit above
        target = _due_level(row.due_at, now, len(rungs))
        seen = row.escalation_level
        if target <= seen:
            continue
        claim = db.session.execute(
            update(ReportObligation)
            .where(
                ReportObligation.id == row.id,
                ReportObligation.escalation_level == seen,
                ReportObligation.submitted_at.is_(None),
            )
            .values(escalation_level=target)
            .execution_options(synchronize_session=False)
        )
        if claim.rowcount != 1:  # another scan got there first, or it was just submitted
            db.session.rollback()
            continue
        for level in range(seen + 1, target + 1):
            rung = rungs[level - 1]
            for user in rung.users:
                db.session.add(_mail(OVERDUE, row, level, user, rung.unit))
            sent += 1
        db.session.commit()
    return sent


def scan(now: datetime | None = None) -> dict:
    """The obligations' part of the overdue scan: this year's rows exist, then warnings, then the ladder."""
    now = now or utcnow()
    obligations.ensure(current_engine().definition, now.astimezone(LOCAL_TZ).year)
    return {"obligation_warnings": send_warnings(now), "obligation_escalations": escalate(now)}


def render_obligation(session: Session, row: Notification) -> Rendered:
    """Unit, report, period and deadline: an obligation's mail carries no case at all."""
    locale = locale_of(row.locale)
    obligation = session.get(ReportObligation, row.context.get("obligation_id"))
    commune = session.get(OrgUnit, obligation.org_unit_id)
    known = {o.code: o for o in current_engine().definition.lists.reports.obligations}
    report = known[obligation.code].label[locale] if obligation.code in known else obligation.code
    fmt = {"report": report, "unit": commune.name, "level": row.level}
    subject, intro = MESSAGES[row.kind][locale]
    with mail_locale(locale):
        labels = _labels() | TEXTS[locale]
    context = {
        "locale": locale,
        "labels": labels,
        "intro": intro.format(**fmt),
        "report": f"{report} {obligation.year}",
        "period": f"{obligation.period_from:%d/%m/%Y} - {obligation.period_to:%d/%m/%Y}",
        "due": format_due(obligation.due_at, locale),
        "link": f"{current_app.config['CASEFLOW_BASE_URL'].rstrip('/')}/supervision/reports",
    }
    return Rendered(
        subject=subject.format(**fmt),
        text=render_template("email/obligation.txt", **context),
        html=render_template("email/obligation.html", **context),
    )
