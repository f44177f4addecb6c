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

from caseflow import display
from caseflow.display import TimeLeft
from caseflow.models import Case, Task
from caseflow.services import access, case_fields, permissions
from caseflow.workflow import current_engine
from caseflow.workflow.clock import WorkingCalendar
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
# Art. 32.1: the three grounds for temporary separation.
GROUND_LABELS = {
    "caregiver_abuser": _l("The parent or caregiver is the abuser"),
    "plan_refused": _l("The child was abused and the caregivers refuse the plan"),
    "continued_risk": _l("Abuse by the caregivers may continue"),
}
CHOICE_LABELS = {"risk_level": RISK_LABELS, "ground": GROUND_LABELS}
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
    "ground": _l("Ground for separation (Art. 32)"),
    "decision_number": _l("Decision number"),
    "shelter": _l("Safe shelter"),
    "alternative_carer": _l("Alternative carer"),
    "until": _l("Separated until"),
    "authority_order": _l("Order of the competent authority (beyond 15 days)"),
    "cancel": _l("Measures to cancel"),
    "investigating_body": _l("Investigating body"),
    "decision": _l("Decision or step of the proceedings"),
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


def kind_label(kind: str | None) -> str:
    """A task kind named by its first template's label (for trail lines whose task is gone)."""
    for template in current_engine().definition.tasks.values():
        if template.kind == kind:
            return template.label.get(locale()) or next(iter(template.label.values()), "")
    return _("a task")


def task_label(task: Task) -> str:
    template = current_engine().definition.tasks.get(task.template)
    if template is None:
        label = kind_label(task.kind)
    else:
        label = template.label.get(locale()) or next(iter(template.label.values()), kind_label(task.kind))
    return f"{label}: {task.description}" if task.description else label


def completed_by_step(task: Task) -> bool:
    """Step tasks (`completed_by: trigger`: verify, draft_plan, ...) are done by taking that step
    on the case page; a "mark as done" button would let them be closed without the decision."""
    template = current_engine().definition.tasks.get(task.template)
    return template is not None and template.completed_by == "trigger"


def rule_text(rule: str) -> str:
    """A task's deadline rule as a sentence in the user's language."""
    if rule == "date set in the decision":
        return _("date set in the decision")
    deadline = DeadlineRule.parse(rule)
    if deadline.anchor == "measure":
        return _("date set in the plan")
    where = ANCHOR_LABELS.get(deadline.anchor, deadline.anchor)
    if deadline.hours is not None:
        return _("%(n)s hours from %(anchor)s", n=deadline.hours, anchor=where)
    return _("%(n)s working days from %(anchor)s", n=deadline.working_days, anchor=where)


def time_left(task: Task, now: datetime, calendar: WorkingCalendar) -> TimeLeft:
    """Time left on the clock the task's own rule runs on (see `caseflow.display.time_left`)."""
    return display.time_left(task.due_at, task.rule, now, calendar)


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
    app.add_template_filter(display.local_time, "local")
    app.add_template_filter(display.local_time, "local_iso")
    app.add_template_filter(display.local_date, "local_date")
    app.add_template_filter(display.local_date, "local_day")
    app.add_template_filter(state_label, "state_label")
    app.add_template_filter(trigger_label, "trigger_label")
    app.add_template_filter(task_label, "task_label")
    app.add_template_filter(rule_text, "rule_text")


def template_globals() -> dict[str, Any]:
    return {
        "CHANNEL_LABELS": CHANNEL_LABELS,
        "HARM_LABELS": HARM_LABELS,
        "RISK_LABELS": RISK_LABELS,
        "GROUND_LABELS": GROUND_LABELS,
        "SEX_LABELS": SEX_LABELS,
        "ROLE_LABELS": ROLE_LABELS,
        "LEVEL_LABELS": LEVEL_LABELS,
        "AGENCY_KIND_LABELS": AGENCY_KIND_LABELS,
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
