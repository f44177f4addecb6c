"""Cases and tasks as the API contract shows them; the child only where the caller may see it."""

from __future__ import annotations

from datetime import datetime

from caseflow.models import Case, Task, User
from caseflow.models.types import utcnow
from caseflow.services import access, duplicates
from caseflow.services.effects import applicable, separation
from caseflow.services.visibility import case_view
from caseflow.workflow.engine import Engine


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def task_json(task: Task, now: datetime | None = None) -> dict:
    return {
        "id": task.id,
        "case_id": task.case_id,
        "case_reference": task.case.reference if task.case else None,
        "kind": task.kind,
        "description": task.description,
        "agency": task.agency.code,
        "status": task.status,
        "due_at": _iso(task.due_at),
        "overdue": task.is_overdue(now),
        "rule": task.rule,
        "legal_basis": task.legal_basis,
        "created_at": _iso(task.created_at),
        "completed_at": _iso(task.completed_at),
        "outcome": task.outcome,
    }


def case_summary_json(case: Case, now: datetime | None = None) -> dict:
    """The list form: never the child's identity, whoever asks."""
    now = now or utcnow()
    return {
        "id": case.id,
        "reference": case.reference,
        "state": case.state,
        "version": case.version,
        "risk_level": case.risk_level,
        "harm_types": case.harm_types,
        "channel": case.channel,
        "incident_commune": case.incident_commune.code,
        "residence_commune": case.residence_commune.code,
        "received_at": _iso(case.received_at),
        "closed_at": _iso(case.closed_at),
        "overdue_tasks": (
            case.listed_overdue
            if case.listed_overdue is not None
            else sum(1 for t in case.tasks if t.is_overdue(now))
        ),
        "separation": separation.public(case.separation),
    }


def case_json(case: Case, user: User, engine: Engine) -> dict:
    """The case as `user` may see it: the fields, tasks and identity `visibility.case_view` allows."""
    now = utcnow()
    body = case_summary_json(case, now)
    definition = engine.definition
    view = case_view(user, case)
    shown_tasks = view.tasks(case)
    if view.only_agency_id is not None:  # the list form's count, of the tasks this view shows
        body["overdue_tasks"] = sum(1 for t in shown_tasks if t.is_overdue(now))
    values = {
        "summary": case.summary,
        "serious_harm": case.serious_harm,
        "caregiver_is_abuser": case.caregiver_is_abuser,
        "findings": case.findings,
        "plan": case.plan,
        "criminal_referral": case.criminal_referral,
        "police_case_number": case.police_case_number,
        "pending_handover": case.pending_handover.code if case.pending_handover else None,
        "proceedings": case.proceedings,
        "closure_reason": case.closure_reason,
        # Trigger fields the workflow file keeps `store: data`, by field name.
        "data": dict(case.data or {}),
        "state_entered_at": _iso(case.state_entered_at),
    }
    body.update({name: value for name, value in values.items() if view.shows(name)})
    # The procedure the case was opened under; it is handled under the loaded one.
    body["workflow_version"] = case.workflow_version
    body["tasks"] = [task_json(t, now) for t in shown_tasks]
    body["allowed_triggers"] = [
        t
        for t in engine.allowed_from(case.state)
        if access.may_fire(user, definition, case, t) and applicable(definition.transitions[t], case)
    ]
    body["possible_earlier_reports"] = duplicates.visible_earlier_references(user, case)
    if view.identity:
        body["child"] = case.child.to_json() if case.child else None
    if view.informant and case.informant is not None:
        body["informant"] = {
            "consent": case.informant.consent,
            "name": case.informant.name,
            "phone": case.informant.phone,
        }
    return body
