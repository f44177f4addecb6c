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
from caseflow.services.labels import (
    AGENCY_KIND_LABELS,
    CHANNEL_LABELS,
    COLUMN_CHOICE_LABELS,
    HARM_LABELS,
    LEVEL_LABELS,
    RISK_LABELS,
    ROLE_LABELS,
    SEX_LABELS,
    label,
)
from caseflow.workflow import current_engine
from caseflow.workflow.clock import WorkingCalendar
from caseflow.workflow.definition import DeadlineRule, FieldSpec, WorkflowDefinition

ANCHOR_LABELS = {"received_at": _l("receipt of the report"), "entered": _l("the start of the step")}


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
    """A trigger field's label: the workflow file's, in the page's language (a variant's field
    without one reads as its name in words)."""
    return spec.label.get(locale()) or spec.label.get("vi") or spec.name.replace("_", " ")


def choice_labels(spec: FieldSpec) -> dict[str, str]:
    """A choice field's values in words: its choice list's labels (the workflow file), or the
    labels of the case column it is kept in (`services/labels.py`)."""
    if spec.choice_list:
        return list_labels(spec.choice_list)
    return {code: str(text) for code, text in COLUMN_CHOICE_LABELS.get(spec.column or spec.name, {}).items()}


def list_labels(name: str) -> dict[str, str]:
    """A choice list of the workflow file (`choice_lists`), code -> label in the page's language."""
    lists = current_engine().definition.lists.lists
    if name not in lists:
        return {}
    return {code: lists[name].label(code, locale()) for code in lists[name].codes}


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
        "list_labels": list_labels,
        "SEX_LABELS": SEX_LABELS,
        "ROLE_LABELS": ROLE_LABELS,
        "LEVEL_LABELS": LEVEL_LABELS,
        "AGENCY_KIND_LABELS": AGENCY_KIND_LABELS,
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
