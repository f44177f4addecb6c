"""The audit trail in words: each event told from the definition's labels and the agencies' names,
in the reader's language, so that no trigger, task kind or agency code reaches a page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from caseflow.display import local_time
from caseflow.models import Case, CaseEvent
from caseflow.services import directory
from caseflow.web import helpers

# The kinds other parts of CaseFlow write; a kind not listed still reads as a sentence, never a code.
EVENT_LABELS = {
    "created": _l("Report recorded"),
    "transition": _l("Step taken"),
    "task_created": _l("Task assigned"),
    "task_completed": _l("Task completed"),
    "task_cancelled": _l("Task cancelled"),
    "task_rerouted": _l("Task moved to another agency"),
    "note": _l("Note"),
    "read": _l("Case opened"),
    "notification": _l("Reminder sent"),
    "escalation": _l("Overdue task escalated"),
    "email_action": _l("Action by e-mail link"),
    "form_recorded": _l("Form recorded"),
    "document_downloaded": _l("Document downloaded"),
    "attachment_added": _l("File attached"),
    "attachment_downloaded": _l("Attachment downloaded"),
    "task_rescheduled": _l("Deadline moved"),
    "unit_merged": _l("Moved to the successor commune (merger of communes)"),
    "adhoc_report": _l("Ad-hoc report to the province"),
    "export": _l("Record exported for an access request"),
    "access_log": _l("Access log exported"),
    "correction": _l("Identity corrected"),
    "disclosure": _l("Disclosure with consent"),
    "anonymised": _l("Anonymised after the retention period"),
}
EMAIL_ACTIONS = {"acknowledge": _l("acknowledged"), "complete": _l("reported done")}


@dataclass(frozen=True)
class Line:
    at: str
    who: str
    what: str
    detail: str
    kind: str
    text: str | None = None  # a note's own words


def describe(events: Iterable[CaseEvent], case: Case) -> list[Line]:
    """One line per event, in order."""
    events = list(events)
    tasks = {t.id: t for t in case.tasks}
    names = _names(events)
    return [_line(e, case, tasks, names) for e in events]


def completed_via(events: Iterable[CaseEvent]) -> dict[int, str]:
    """Task id -> the step (trigger) that completed it, from the trail: a task done by taking a
    step shows that step's label, not the engine's own note."""
    return {
        e.data["task_id"]: e.data["by_trigger"]
        for e in events
        if e.kind == "task_completed" and (e.data or {}).get("by_trigger") and e.data.get("task_id")
    }


def _names(events: list[CaseEvent]) -> dict[str, str]:
    codes: set[str] = set()
    for e in events:
        data = e.data or {}
        for key in ("agency", "from", "to", "unit", "residence_commune", "from_commune"):
            if isinstance(data.get(key), str):
                codes.add(data[key])
        if e.actor_id is None and e.actor_label:
            codes.add(e.link_agency() or e.actor_label)  # an agency without an account acted
    return directory.names_by_code(codes)


def _who(e: CaseEvent, names: dict[str, str]) -> str:
    if e.actor is not None:
        return e.actor.name
    label = e.actor_label or "system"
    if label == "system":
        return _("CaseFlow (automatic)")
    agency = e.link_agency()
    if agency is not None:
        return _("%(agency)s, by emailed link", agency=names.get(agency, _("an agency")))
    # An anonymised event keeps its actor but not its data: the agency's name, without the how.
    return names.get(label, label)


def _task_name(data: dict, tasks: dict) -> str:
    task = tasks.get(data.get("task_id"))
    if task is not None:
        return helpers.task_label(task)
    return helpers.kind_label(data.get("kind"))


def _line(e: CaseEvent, case: Case, tasks: dict, names: dict[str, str]) -> Line:
    data = e.data or {}
    what = str(EVENT_LABELS.get(e.kind) or _("Recorded in the case"))
    detail = ""
    if e.kind == "created":
        detail = _(
            "received %(when)s, %(channel)s",
            when=local_time(case.received_at),
            channel=helpers.label(helpers.CHANNEL_LABELS, case.channel),
        )
    elif e.kind == "transition":
        what = helpers.trigger_label(data.get("trigger") or "")
        if e.from_state != e.to_state:
            detail = f"{helpers.state_label(e.from_state)} → {helpers.state_label(e.to_state)}"
        place = data.get("residence_commune")
        if isinstance(place, str) and place in names:
            detail = _("to %(commune)s", commune=names[place])
        if data.get("police_case_number"):
            detail = _("police case number %(n)s", n=data["police_case_number"])
    elif e.kind == "task_created":
        detail = _(
            "%(task)s, for %(agency)s, due %(due)s",
            task=_task_name(data, tasks),
            agency=names.get(data.get("agency"), _("an agency")),
            due=local_time(data.get("due_at")),
        )
    elif e.kind == "task_completed":
        detail = _task_name(data, tasks)
        if data.get("by_trigger"):
            detail = _(
                "%(task)s, by the step: %(step)s", task=detail, step=helpers.trigger_label(data["by_trigger"])
            )
        elif data.get("outcome"):
            detail = f"{detail}: {data['outcome']}"
    elif e.kind == "task_cancelled":
        detail = _task_name(data, tasks)
    elif e.kind == "task_rerouted":
        detail = _(
            "%(task)s: from %(old)s to %(new)s",
            task=_task_name(data, tasks),
            old=names.get(data.get("from"), _("an agency")),
            new=names.get(data.get("to"), _("an agency")),
        )
    elif e.kind == "read":
        detail = _("identity shown") if data.get("identity_shown") else ""
    elif e.kind == "notification":
        what = str(_l("Warning sent before the deadline") if data.get("warning") else what)
        detail = _task_name(data, tasks)
    elif e.kind == "escalation":
        detail = _(
            "%(task)s, level %(level)s, %(unit)s",
            task=_task_name(data, tasks),
            level=data.get("level", ""),
            unit=names.get(data.get("unit"), ""),
        ).rstrip(", ")
    elif e.kind == "email_action":
        detail = f"{_task_name(data, tasks)}: {EMAIL_ACTIONS.get(data.get('action'), '')}".rstrip(": ")
    return Line(
        at=local_time(e.at),
        who=_who(e, names),
        what=what,
        detail=detail,
        kind=e.kind,
        text=data.get("text") if e.kind == "note" else None,
    )
