"""What a notification says, in the recipient's language, built only from non-identifying fields.

The context is assembled here from an allow-list (case reference, task label, deadline,
links): the child's name, birth date, address, school, the informant and every free-text
field (summary, findings, task descriptions) are never loaded, so no template can leak them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from caseflow.models import Agency, Case, Notification, OrgUnit, Task
from caseflow.notifications.action_links import action_link
from caseflow.workflow.clock import LOCAL_TZ

LOCALES = ("vi", "en")

# The mails about tasks: kind -> locale -> (subject, opening line). Placeholders: {ref},
# {task}, {level}, {unit}. Mails about a case's transitions say what the workflow file's
# `notifications:` says (see `_wording`).
MESSAGES: dict[str, dict[str, tuple[str, str]]] = {
    "task_created": {
        "vi": (
            "[{ref}] Nhiệm vụ mới: {task}",
            "Cơ quan của quý vị được giao một nhiệm vụ mới trong hồ sơ {ref}.",
        ),
        "en": ("[{ref}] New task: {task}", "Your agency has been given a new task on case {ref}."),
    },
    "warning": {
        "vi": ("[{ref}] Sắp đến hạn: {task}", "Nhiệm vụ sau sắp đến hạn và chưa được hoàn thành."),
        "en": ("[{ref}] Due soon: {task}", "The following task is due soon and is not done yet."),
    },
    "overdue": {
        "vi": ("[{ref}] Quá hạn: {task}", "Nhiệm vụ sau đã quá hạn. Đề nghị thực hiện ngay."),
        "en": ("[{ref}] Overdue: {task}", "The following task is overdue. Please act now."),
    },
    "escalation": {
        "vi": (
            "[{ref}] Báo cáo quá hạn (cấp {level}): {task}",
            "Một nhiệm vụ bảo vệ trẻ em thuộc {unit} đã quá hạn mà chưa được thực hiện.",
        ),
        "en": (
            "[{ref}] Overdue task escalated (level {level}): {task}",
            "A child-protection task under {unit} is overdue and not done.",
        ),
    },
}

DIGEST = {
    "vi": ("Tổng hợp nhiệm vụ quá hạn ({count})", "Các nhiệm vụ sau thuộc địa bàn quý vị đã quá hạn:"),
    "en": ("Overdue tasks digest ({count})", "These tasks in your area are overdue:"),
}

LABELS = {
    "vi": {
        "case": "Hồ sơ",
        "task": "Nhiệm vụ",
        "due": "Hạn",
        "agency": "Cơ quan thực hiện",
        "open": "Xem hồ sơ",
        "ack": "Xác nhận đã nhận nhiệm vụ",
        "complete": "Báo cáo đã hoàn thành",
        "actions_note": "Các liên kết dưới đây dùng một lần, không cần đăng nhập, hết hạn sau {hours} giờ.",
        "tz": "giờ Việt Nam",
        "footer": "Thư tự động từ CaseFlow. Không trả lời thư này. "
        "Thông tin về trẻ được bảo mật theo Luật Trẻ em và Nghị định 56/2017/NĐ-CP.",
    },
    "en": {
        "case": "Case",
        "task": "Task",
        "due": "Due",
        "agency": "Agency",
        "open": "Open the case",
        "ack": "Acknowledge the task",
        "complete": "Report the task done",
        "actions_note": "The links below work once, without logging in, and expire in {hours} hours.",
        "tz": "Vietnam time",
        "footer": "Automatic mail from CaseFlow. Do not reply. "
        "The child's identity is protected under the Law on Children and Decree 56/2017/ND-CP.",
    },
}


@dataclass
class Rendered:
    subject: str
    text: str
    html: str


def locale_of(value: str | None) -> str:
    return value if value in LOCALES else "vi"


def format_due(moment: datetime | None, locale: str) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(LOCAL_TZ)
    shown = local.strftime("%H:%M %d/%m/%Y") if locale == "vi" else local.strftime("%Y-%m-%d %H:%M")
    return f"{shown} ({LABELS[locale]['tz']})"


def case_link(case_id: int) -> str:
    return f"{current_app.config['CASEFLOW_BASE_URL'].rstrip('/')}/cases/{case_id}"


def task_label(task: Task, locale: str) -> str:
    from caseflow.workflow import current_engine

    template = current_engine().definition.tasks.get(task.template)
    if template is None:
        return task.kind
    return template.label.get(locale) or next(iter(template.label.values()), task.kind)


def _wording(kind: str, locale: str) -> tuple[str, str]:
    """(subject, opening line) of a mail: the workflow file's for its notifications, else the task mails'."""
    from caseflow.workflow import current_engine

    declared = current_engine().definition.notifications.get(kind)
    if declared is not None:
        return declared.subject[locale], declared.message[locale]
    return MESSAGES[kind][locale]


def _reference(case: Case | None) -> str:
    if case is None:
        return "-"
    return case.reference or f"#{case.id}"


def task_facts(session: Session, task: Task, locale: str) -> dict:
    """The lines shown for one task: safe fields only."""
    agency = session.get(Agency, task.agency_id)
    return {
        "task": task_label(task, locale),
        "due": format_due(task.due_at, locale),
        "agency": agency.name if agency else "",
    }


def render_notification(session: Session, row: Notification) -> Rendered:
    locale = locale_of(row.locale)
    case = session.get(Case, row.case_id) if row.case_id else None
    task = session.get(Task, row.task_id) if row.task_id else None
    facts = task_facts(session, task, locale) if task else {"task": "", "due": "", "agency": ""}
    unit = session.get(OrgUnit, row.context.get("unit_id")) if row.context.get("unit_id") else None
    fmt = {
        "ref": _reference(case),
        "task": facts["task"],
        "level": row.level,
        "unit": unit.name if unit else "",
    }
    subject_fmt, intro_fmt = _wording(row.kind, locale)
    actions = []
    if row.kind == "task_created" and task is not None and task.status == "open":
        actions = [
            (LABELS[locale]["ack"], action_link(task.id, "acknowledge")),
            (LABELS[locale]["complete"], action_link(task.id, "complete")),
        ]
    context = {
        "locale": locale,
        "labels": LABELS[locale],
        "intro": intro_fmt.format(**fmt),
        "reference": fmt["ref"],
        "link": case_link(case.id) if case else current_app.config["CASEFLOW_BASE_URL"],
        "actions": actions,
        "action_hours": current_app.config["EMAIL_ACTION_HOURS"],
        **facts,
    }
    return Rendered(
        subject=subject_fmt.format(**fmt),
        text=render_template("email/notification.txt", **context),
        html=render_template("email/notification.html", **context),
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
    subject_fmt, intro = DIGEST[locale]
    context = {"locale": locale, "labels": LABELS[locale], "intro": intro, "items": items}
    return Rendered(
        subject=subject_fmt.format(count=len(items)),
        text=render_template("email/digest.txt", **context),
        html=render_template("email/digest.html", **context),
    )
