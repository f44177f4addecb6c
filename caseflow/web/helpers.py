"""What templates need besides data: local times, labels from the definition, time left on the right clock."""

from __future__ import annotations

import re
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
from caseflow.services import access, case_fields
from caseflow.workflow import current_engine
from caseflow.workflow.clock import WorkingCalendar, to_local
from caseflow.workflow.definition import FieldSpec, WorkflowDefinition

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
_RULE = re.compile(r"^(hours|working_days): (\d+) from (\w+)$")


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
    """'hours: 12 from received_at' as a sentence in the user's language."""
    match = _RULE.match(rule or "")
    if not match:
        return _("date set in the plan")
    unit, n, anchor = match.groups()
    where = ANCHOR_LABELS.get(anchor, anchor)
    if unit == "hours":
        return _("%(n)s hours from %(anchor)s", n=n, anchor=where)
    return _("%(n)s working days from %(anchor)s", n=n, anchor=where)


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
    if (task.rule or "").startswith("working_days"):
        days = calendar.working_days_between(to_local(now).date(), to_local(task.due_at).date())
        if overdue:
            text = _("Overdue by %(n)s working days", n=max(-days, 1))
        elif days == 0:
            text = _("Due today")
        else:
            text = _("%(n)s working days left", n=days)
        soon = not overdue and days <= 1
    elif (task.rule or "").startswith("hours"):
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
    }


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


# The services explain errors in English for the API; the pages say the same in the user's language.
ERROR_TEXTS = (
    ("is required", _l("This field is required.")),
    ("must not be empty", _l("This field is required.")),
    ("is not a known commune code", _l("Choose a commune from the list.")),
    ("names a commune that no longer exists", _l("This commune no longer exists.")),
    ("is in the future", _l("This cannot be in the future.")),
    ("give date_of_birth or estimated_age", _l("Give the date of birth or an estimated age.")),
    ("makes the person", _l("A child is a person under 16.")),
    ("must be a non-empty list", _l("Choose at least one.")),
    ("must be one of", _l("Choose one of the options.")),
    ("must be true or false", _l("Answer yes or no.")),
    ("must be true", _l("This must be confirmed before the case can be closed.")),
    ("must be a list of at least one measure", _l("Give at least one measure.")),
    ("is not a known agency code", _l("Choose an agency.")),
    ("must be an ISO 8601", _l("Give a date.")),
    ("must be in the future", _l("The date must be in the future.")),
    ("is already the case's residence commune", _l("The case already belongs to this commune.")),
    ("is already used", _l("This code is already used.")),
    ("is already registered", _l("This e-mail is already registered.")),
    ("is not an email address", _l("Give a valid e-mail address.")),
    ("is outside your area", _l("You may record reports only for your own area.")),
    ("must be at least", _l("The password is too short.")),
    ("is wrong", _l("The current password is wrong.")),
    ("officers and chairs belong to a commune", _l("Officers and chairs belong to a commune.")),
    ("supervisors need", _l("Supervisors need the unit they supervise.")),
    ("agency staff need", _l("Agency staff need their agency.")),
    ("is not a known org unit code", _l("Choose a unit from the list.")),
    ("a province has no parent", _l("A province has no parent unit.")),
    ("sits under", _l("This level cannot sit under that parent unit.")),
    ("is before valid_from", _l("The end date is before the start date.")),
)


def error_text(why: str) -> str:
    for prefix, text in ERROR_TEXTS:
        if why.startswith(prefix):
            return str(text)
    return why


LOCALES = ("vi", "en")


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: an open redirect would make the sign-in page a phishing aid."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target.rstrip("?")
