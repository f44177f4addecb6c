"""What templates need besides data: local times, labels from the definition, time left on the right clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from caseflow.models import Case, Task
from caseflow.services import access, case_fields, permissions
from caseflow.workflow import current_engine
from caseflow.workflow.clock import WorkingCalendar, to_local
from caseflow.workflow.definition import DeadlineRule, FieldSpec, WorkflowDefinition

CHANNEL_LABELS = {
    "hotline_111": _l("Hotline 111"),
    "police": _l("Police"),
    "school": _l("School"),
    "health": _l("Health facility"),
    "commune": _l("Commune office"),
    "community": _l("Community member"),
    "self": _l("The child"),
    "other": _l("Other"),
}
HARM_LABELS = {
    "violence": _l("Violence"),
    "sexual_abuse": _l("Sexual abuse"),
    "exploitation": _l("Exploitation, child labour"),
    "trafficking": _l("Trafficking"),
    "abandonment": _l("Abandonment"),
    "neglect": _l("Neglect"),
    "other": _l("Other harm"),
}
RISK_LABELS = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High")}
SEX_LABELS = {"female": _l("Female"), "male": _l("Male"), "unknown": _l("Unknown")}
ROLE_LABELS = {
    "admin": _l("Administrator"),
    "officer": _l("Child-protection officer"),
    "chair": _l("Commune chair"),
    "agency_staff": _l("Agency staff"),
    "supervisor": _l("Supervisor"),
}
LEVEL_LABELS = {"province": _l("Province"), "district": _l("District"), "commune": _l("Commune")}
AGENCY_KIND_LABELS = {
    "commune_committee": _l("Commune People's Committee"),
    "police": _l("Police"),
    "health": _l("Health station"),
    "education": _l("School"),
    "social_services": _l("Social services"),
    "justice": _l("Justice"),
    "hotline": _l("Hotline"),
    "mass_org": _l("Mass organisation"),
    "other": _l("Other"),
}
EVENT_LABELS = {
    "created": _l("Report recorded"),
    "transition": _l("Step taken"),
    "task_created": _l("Task assigned"),
    "task_completed": _l("Task completed"),
    "task_cancelled": _l("Task cancelled"),
    "task_rerouted": _l("Task rerouted"),
    "note": _l("Note"),
    "read": _l("Case opened"),
    "notification": _l("Notification"),
    "escalation": _l("Escalation"),
    "email_action": _l("Action by e-mail link"),
}
ANCHOR_LABELS = {"received_at": _l("receipt of the report"), "entered": _l("the start of the step")}
FIELD_LABELS = {
    "risk_level": _l("Risk level"),
    "serious_harm": _l("Serious harm to life, health or dignity"),
    "caregiver_is_abuser": _l("The parent or caregiver is the alleged abuser"),
    "findings": _l("Findings of the verification"),
    "criminal_referral": _l("Referred to the police as a crime"),
    "police_case_number": _l("Police case number"),
    "reason": _l("Reason"),
    "plan": _l("Support and intervention plan"),
    "measures": _l("Measures"),
    "no_longer_at_risk": _l("The child is no longer at risk"),
    "stable": _l("The child is physically, psychologically and emotionally stable"),
    "summary": _l("Summary"),
    "residence_commune": _l("New residence commune"),
}


def lifetime_seconds() -> float:
    value = current_app.config["PERMANENT_SESSION_LIFETIME"]
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def locale() -> str:
    return str(get_locale() or "vi")


def state_label(name: str | None) -> str:
    if not name:
        return ""
    state = current_engine().definition.states.get(name)
    return state.label.get(locale(), name) if state else name


def trigger_label(trigger: str) -> str:
    transition = current_engine().definition.transitions.get(trigger)
    return transition.label.get(locale(), trigger) if transition else trigger


def task_label(task: Task) -> str:
    template = current_engine().definition.tasks.get(task.template)
    label = template.label.get(locale(), task.kind) if template else task.kind
    return f"{label}: {task.description}" if task.description else label


def completed_by_step(task: Task) -> bool:
    """Tasks a transition completes (verify, draft_plan, ...) are done by taking that step on the
    case page; a "mark as done" button would let them be closed without the decision."""
    return any(task.kind in t.completes for t in current_engine().definition.transitions.values())


def rule_text(rule: str) -> str:
    """A task's deadline rule as a sentence in the user's language."""
    deadline = DeadlineRule.parse(rule)
    if deadline.anchor == "measure":
        return _("date set in the plan")
    where = ANCHOR_LABELS.get(deadline.anchor, deadline.anchor)
    if deadline.hours is not None:
        return _("%(n)s hours from %(anchor)s", n=deadline.hours, anchor=where)
    return _("%(n)s working days from %(anchor)s", n=deadline.working_days, anchor=where)


def local(moment: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    return to_local(moment).strftime(fmt) if moment else ""


def local_iso(value: str | None) -> str:
    """An ISO time kept in the audit trail, shown in Vietnam time like every other time."""
    try:
        return local(datetime.fromisoformat(value)) if value else ""
    except (TypeError, ValueError):
        return value or ""


def time_left(task: Task, now: datetime, calendar: WorkingCalendar) -> dict[str, Any]:
    """Time left on the clock the task's rule runs on: hours for hour rules, working days for
    working-day rules (the law counts those, not calendar days), calendar days for plan dates."""
    overdue = task.status == "open" and task.due_at < now
    deadline = DeadlineRule.parse(task.rule)
    if deadline.working_days is not None:
        days = calendar.working_days_between(to_local(now).date(), to_local(task.due_at).date())
        if overdue:
            text = _("Overdue by %(n)s working days", n=max(-days, 1))
        elif days == 0:
            text = _("Due today")
        else:
            text = _("%(n)s working days left", n=days)
        soon = not overdue and days <= 1
    elif deadline.hours is not None:
        seconds = (task.due_at - now).total_seconds()
        hours, minutes = divmod(int(abs(seconds)) // 60, 60)
        amount = _("%(h)s h %(m)s min", h=hours, m=minutes)
        text = _("Overdue by %(t)s", t=amount) if overdue else _("%(t)s left", t=amount)
        soon = not overdue and seconds < 3 * 3600
    else:
        days = (to_local(task.due_at).date() - to_local(now).date()).days
        text = _("Overdue by %(n)s days", n=max(-days, 1)) if overdue else _("%(n)s days left", n=days)
        soon = not overdue and days <= 2
    return {"text": text, "overdue": overdue, "soon": soon}


def field_label(spec: FieldSpec) -> str:
    """A trigger field's label: the workflow file's, in the page's language, when it gives one."""
    if spec.label:
        return spec.label.get(locale()) or spec.label.get("vi") or spec.name
    return str(FIELD_LABELS.get(spec.name, spec.name.replace("_", " ")))


def data_rows(definition: WorkflowDefinition, case: Case) -> list[dict[str, str]]:
    """The case's `store: data` fields that have a value, labelled and shown for a page."""
    rows = []
    for spec in case_fields.data_fields(definition):
        value = case_fields.stored(case, spec)
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, bool):
            shown = str(_("Yes") if value else _("No"))
        elif isinstance(value, list):
            shown = ", ".join(str(v) for v in value)
        else:
            shown = str(value)
        rows.append({"label": field_label(spec), "value": shown})
    return rows


def label(mapping: dict, value: str | None) -> str:
    return str(mapping.get(value, value or ""))


def register_filters(app: Flask) -> None:
    app.add_template_filter(local, "local")
    app.add_template_filter(local_iso, "local_iso")
    app.add_template_filter(state_label, "state_label")
    app.add_template_filter(trigger_label, "trigger_label")
    app.add_template_filter(task_label, "task_label")
    app.add_template_filter(rule_text, "rule_text")


def template_globals() -> dict[str, Any]:
    return {
        "CHANNEL_LABELS": CHANNEL_LABELS,
        "HARM_LABELS": HARM_LABELS,
        "RISK_LABELS": RISK_LABELS,
        "SEX_LABELS": SEX_LABELS,
        "ROLE_LABELS": ROLE_LABELS,
        "LEVEL_LABELS": LEVEL_LABELS,
        "AGENCY_KIND_LABELS": AGENCY_KIND_LABELS,
        "EVENT_LABELS": EVENT_LABELS,
        "FIELD_LABELS": FIELD_LABELS,
        "label": label,
        "current_locale": locale(),
        # Outside a request (a job rendering a mail) there is no current user.
        "may_open_case": bool(current_user)
        and current_user.is_authenticated
        and access.may_open_case(current_user),
        "may": _may,
    }


def _may(action: str) -> bool:
    """For menus: may the signed-in user use `action` (caseflow/services/permissions.py)?"""
    return (
        bool(current_user) and current_user.is_authenticated and permissions.allows(current_user.role, action)
    )


def permission_required(action: str) -> Callable:
    """Signed in with a role the permission table lets `action`; otherwise the 403 page."""
    return roles_required(*permissions.roles_for(action))


def roles_required(*roles: str) -> Callable:
    """Signed in, and (with roles) one of them; otherwise the 403 page."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


LOCALES = ("vi", "en")


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: an open redirect would make the sign-in page a phishing aid."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target.rstrip("?")
