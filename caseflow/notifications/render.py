"""What a notification says, in the recipient's language, built only from non-identifying fields.

The context is assembled here from an allow-list (case reference, task label, deadline,
links): the child's name, birth date, address, school, the informant and every free-text
field (summary, findings, task descriptions) are never loaded, so no template can leak them.
Every word comes from the Babel catalogs, rendered in the recipient's locale; the message is
built so that subjects keep every space and diacritic as mail clients decode them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formatdate

from flask import current_app, g, has_request_context, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from caseflow.display import local_time
from caseflow.models import Agency, Case, Notification, OrgUnit, ReportObligation, Task
from caseflow.notifications.action_links import action_link, completable_by_link
from caseflow.workflow.clock import LOCAL_TZ

__all__ = [
    "LOCAL_TZ",
    "LOCALES",
    "MESSAGES",
    "Rendered",
    "build_message",
    "render_digest",
    "render_notification",
]

LOCALES = ("vi", "en")

# The mails about tasks: kind -> (subject, opening line), in the Babel catalogs. Placeholders:
# %(ref)s, %(task)s, %(level)s, %(unit)s. Mails about a case's transitions say what the workflow
# file's `notifications:` says, in its own two languages, like its states (see `_wording`).
MESSAGES = {
    "task_created": (
        _l("[%(ref)s] New task: %(task)s"),
        _l("Your agency has been given a new task on case %(ref)s."),
    ),
    "warning": (
        _l("[%(ref)s] Due soon: %(task)s"),
        _l("The following task is due soon and is not done yet."),
    ),
    "overdue": (
        _l("[%(ref)s] Overdue: %(task)s"),
        _l("The following task is overdue. Please act now."),
    ),
    "still_overdue": (
        _l("[%(ref)s] Still overdue (reminder %(level)s): %(task)s"),
        _l("This emergency protection task under %(unit)s is past its deadline and still not done."),
    ),
    "escalation": (
        _l("[%(ref)s] Overdue task escalated (level %(level)s): %(task)s"),
        _l("A child-protection task under %(unit)s is overdue and not done."),
    ),
}
# The mails about a report a commune owes (caseflow/notifications/obligations.py). Placeholders:
# %(report)s (its label in the workflow file), %(unit)s (the commune), %(level)s.
REPORT_MESSAGES = {
    "obligation_warning": (
        _l("%(report)s due soon (%(unit)s)"),
        _l("%(unit)s has to submit the %(report)s by the deadline below."),
    ),
    "obligation_overdue": (
        _l("%(report)s overdue (level %(level)s): %(unit)s"),
        _l("%(unit)s has not submitted the %(report)s; it is overdue."),
    ),
}
# A kind another part adds before its words are written still reads as a sentence.
FALLBACK = (_l("[%(ref)s] Case update"), _l("There is news on case %(ref)s."))
DIGEST = (_l("Overdue tasks digest (%(count)s)"), _l("These tasks in your area are overdue:"))


def _labels() -> dict[str, str]:
    """The mail's fixed words, looked up in the locale being rendered."""
    return {
        "case": _("Case"),
        "task": _("Task"),
        "due": _("Due"),
        "agency": _("Agency"),
        "open": _("Open the case"),
        "ack": _("Acknowledge the task"),
        "complete": _("Report the task done"),
        "footer": _(
            "Automatic mail from CaseFlow. Do not reply. "
            "The child's identity is protected under the Law on Children and Decree 56/2017/ND-CP."
        ),
    }


@dataclass
class Rendered:
    subject: str
    text: str
    html: str


def locale_of(value: str | None) -> str:
    return value if value in LOCALES else "vi"


@contextmanager
def mail_locale(locale: str) -> Iterator[None]:
    """Render in `locale` whatever the page's language: a mail can be rendered during a request
    (in-process delivery), whose catalog the pages cache on `g`."""
    cached = g.pop("_caseflow_catalog", None) if has_request_context() else None
    try:
        with force_locale(locale):
            yield
    finally:
        if has_request_context():
            g.pop("_caseflow_catalog", None)
            if cached is not None:
                g._caseflow_catalog = cached


def format_due(moment: datetime | None, locale: str) -> str:
    """A deadline as the pages show it, with the zone said, since a mail is read anywhere."""
    if moment is None:
        return ""
    with mail_locale(locale_of(locale)):
        return _("%(when)s (Vietnam time)", when=local_time(moment))


def case_link(case_id: int) -> str:
    return f"{current_app.config['CASEFLOW_BASE_URL'].rstrip('/')}/cases/{case_id}"


def task_label(task: Task, locale: str) -> str:
    from caseflow.workflow import current_engine

    template = current_engine().definition.tasks.get(task.template)
    if template is None:
        with mail_locale(locale_of(locale)):
            return _("a task")
    return template.label.get(locale) or next(iter(template.label.values()), "")


def _wording(kind: str, locale: str, fmt: dict) -> tuple[str, str]:
    """(subject, opening line) of a mail, in the locale being rendered: the workflow file's for its
    notifications ({ref} placeholders), else the task mails' from the catalogs."""
    from caseflow.workflow import current_engine

    declared = current_engine().definition.notifications.get(kind)
    if declared is not None:
        subject = declared.subject.get(locale) or declared.subject.get("vi", "")
        message = declared.message.get(locale) or declared.message.get("vi", "")
        return subject.format(**fmt), message.format(**fmt)
    subject_msg, intro_msg = MESSAGES.get(kind, FALLBACK)
    return str(subject_msg) % fmt, str(intro_msg) % fmt


def _reference(case: Case | None) -> str:
    if case is None:
        return "-"
    return case.reference or f"#{case.id}"


def _state_label(state: str | None, locale: str) -> str:
    from caseflow.workflow import current_engine

    definition = current_engine().definition.states.get(state) if state else None
    return definition.label.get(locale, state) if definition else ""


def task_facts(session: Session, task: Task, locale: str) -> dict:
    """The lines shown for one task: safe fields only."""
    agency = session.get(Agency, task.agency_id)
    return {
        "task": task_label(task, locale),
        "due": format_due(task.due_at, locale),
        "agency": agency.name if agency else "",
    }


def render_notification(session: Session, row: Notification) -> Rendered:
    if row.context.get("obligation_id"):  # a unit's report, not a case: its own wording
        return render_obligation(session, row)
    locale = locale_of(row.locale)
    case = session.get(Case, row.case_id) if row.case_id else None
    task = session.get(Task, row.task_id) if row.task_id else None
    facts = task_facts(session, task, locale) if task else {"task": "", "due": "", "agency": ""}
    unit = session.get(OrgUnit, row.context.get("unit_id")) if row.context.get("unit_id") else None
    fmt = {
        # The step the case is in now (a status mail names it; never anything identifying).
        "state": _state_label(case.state if case else None, locale),
        "ref": _reference(case),
        "task": facts["task"],
        "level": row.level,
        "unit": unit.name if unit else "",
    }
    with mail_locale(locale):
        subject, intro = _wording(row.kind, locale, fmt)
        labels = _labels()
        actions = []
        agency = session.get(Agency, task.agency_id) if task is not None else None
        # Links only to the agency that holds the task now: a mail queued before a reroute gets none.
        if row.kind == "task_created" and task is not None and task.status == "open" and agency is not None:
            if agency.email == row.recipient:
                actions = [(labels["ack"], action_link(task.id, "acknowledge", agency.id))]
                if completable_by_link(task):
                    actions.append((labels["complete"], action_link(task.id, "complete", agency.id)))
        hours = current_app.config["EMAIL_ACTION_HOURS"]
        context = {
            "locale": locale,
            "labels": labels,
            "intro": intro,
            "reference": fmt["ref"],
            "link": case_link(case.id) if case else current_app.config["CASEFLOW_BASE_URL"],
            "actions": actions,
            "actions_note": _(
                "The links below work once, without signing in, and expire in %(hours)s hours.", hours=hours
            ),
            **facts,
        }
        return Rendered(
            subject=subject,
            text=render_template("email/notification.txt", **context),
            html=render_template("email/notification.html", **context),
        )


def render_obligation(session: Session, row: Notification) -> Rendered:
    """Unit, report, period and deadline: an obligation's mail carries no case at all."""
    from caseflow.workflow import current_engine

    locale = locale_of(row.locale)
    obligation = session.get(ReportObligation, row.context["obligation_id"])
    commune = session.get(OrgUnit, obligation.org_unit_id)
    known = {o.code: o for o in current_engine().definition.lists.reports.obligations}
    report = known[obligation.code].label[locale] if obligation.code in known else obligation.code
    fmt = {"report": report, "unit": commune.name, "level": row.level}
    subject_msg, intro_msg = REPORT_MESSAGES.get(row.kind, REPORT_MESSAGES["obligation_overdue"])
    with mail_locale(locale):
        context = {
            "locale": locale,
            "intro": str(intro_msg) % fmt,
            "report": f"{report} {obligation.year}",
            "period": f"{obligation.period_from:%d/%m/%Y} - {obligation.period_to:%d/%m/%Y}",
            "due": format_due(obligation.due_at, locale),
            "link": f"{current_app.config['CASEFLOW_BASE_URL'].rstrip('/')}/supervision/reports",
        }
        return Rendered(
            subject=str(subject_msg) % fmt,
            text=render_template("email/obligation.txt", **context),
            html=render_template("email/obligation.html", **context),
        )


def render_digest(session: Session, rows: list[Notification], locale: str) -> Rendered:
    locale = locale_of(locale)
    items = []
    task_ids = sorted({r.task_id for r in rows if r.task_id})
    tasks = {t.id: t for t in session.scalars(select(Task).where(Task.id.in_(task_ids)))}
    for row in rows:
        task = tasks.get(row.task_id)
        if task is None:
            continue
        case = session.get(Case, task.case_id)
        items.append(
            {
                "reference": _reference(case),
                "link": case_link(case.id),
                "level": row.level,
                **task_facts(session, task, locale),
            }
        )
    subject_msg, intro_msg = DIGEST
    with mail_locale(locale):
        context = {"locale": locale, "labels": _labels(), "intro": str(intro_msg), "items": items}
        return Rendered(
            subject=str(subject_msg) % {"count": len(items)},
            text=render_template("email/digest.txt", **context),
            html=render_template("email/digest.html", **context),
        )


def build_message(rendered: Rendered, sender: str, recipient: str, message_id: str) -> Message:
    """The mail as sent: UTF-8 text and HTML alternatives. The subject is folded by `Header`, which
    keeps each space inside an encoded word; the newer header folder of Python 3.11 splits a long
    Vietnamese subject at a space between two encoded words, and RFC 2047 decoding then drops that
    space ("Bảo vệkhẩn cấp")."""
    # CRLF, as SMTP wants: smtplib sends bytes as given, and a server reads bare LFs as one long line.
    message = MIMEMultipart("alternative", policy=compat32.clone(linesep="\r\n"))
    message["Subject"] = Header(rendered.subject, "utf-8")
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message.attach(MIMEText(rendered.text, "plain", _body_charset()))
    message.attach(MIMEText(rendered.html, "html", _body_charset()))
    return message


def _body_charset() -> Charset:
    # Quoted-printable, said here: Flask-Mail re-registers UTF-8 process-wide as raw 8-bit, whose
    # long lines SMTP servers refuse.
    charset = Charset("utf-8")
    charset.body_encoding = QP
    return charset
