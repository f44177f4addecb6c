"""Handing a case over to another commune (the child moved): asked by the owning commune,
accepted or declined by the receiving one. On acceptance the plan side moves: the case's
residence, the commune's open tasks, and the open measure tasks of the old commune's agencies."""

from __future__ import annotations

from typing import Any

from caseflow.services import outbox
from caseflow.services.effects import effect, guard
from caseflow.services.errors import Invalid
from caseflow.services.routing import agency_for


@guard("handover_pending", applicability=True)
def _pending(run: Any) -> str | None:
    return None if run.case.pending_handover_id else "No handover awaits acceptance"


@guard("no_handover_pending", applicability=True)
def _none_pending(run: Any) -> str | None:
    unit = run.case.pending_handover
    return f"A handover to {unit.code} awaits that commune's answer" if unit else None


def _mail_commune(run: Any, kind: str, commune_id: int) -> None:
    for role in ("officer", "chair"):
        for user in outbox.commune_users(commune_id, role):
            outbox.queue(
                kind,
                user.email,
                case=run.case,
                locale=user.locale or "vi",
                dedupe=f"{kind}:{run.case.id}:{run.case.version}:{user.email}",
            )


@effect("request_handover")
def request_handover(run: Any, transition: Any) -> None:
    commune = run.values["residence_commune"]
    if commune.id == run.case.residence_commune_id:
        raise Invalid({"data.residence_commune": "is already the case's residence commune"})
    run.change(run.case, pending_handover=commune, pending_handover_id=commune.id)
    _mail_commune(run, "handover_requested", commune.id)


@effect("decline_handover")
def decline_handover(run: Any, transition: Any) -> None:
    run.values["declined_by_commune"] = run.case.pending_handover.code
    run.change(run.case, pending_handover=None, pending_handover_id=None)
    _mail_commune(run, "handover_declined", run.case.residence_commune_id)


def _reroute(run: Any, task: Any, agency: Any) -> None:
    run.record("task_rerouted", data={"task_id": task.id, "from": task.agency.code, "to": agency.code})
    run.change(task, agency=agency, agency_id=agency.id)
    outbox.queue_for_agency(
        "task_created", agency, case=run.case, task=task, dedupe=f"task_created:{task.id}:{agency.code}"
    )


@effect("accept_handover")
def accept_handover(run: Any, transition: Any) -> None:
    case = run.case
    old, commune = case.residence_commune, case.pending_handover
    run.change(
        case,
        residence_commune=commune,
        residence_commune_id=commune.id,
        pending_handover=None,
        pending_handover_id=None,
    )
    for task in case.tasks:  # the tasks' copy of the case's communes moves with it
        run.change(task, residence_commune_id=commune.id)
    for task in case.tasks:
        template = run.definition.tasks.get(task.template)
        if task.status != "open" or template is None:
            continue
        if template.agency_kind == "from_measure":
            # A measure given to the old commune's own agency goes to the new commune's agency
            # of that kind; one of a body above the communes (a district service) stays.
            if task.agency.org_unit_id == old.id:
                _reroute(run, task, agency_for(task.agency.kind, commune))
        elif template.commune == "residence":
            _reroute(run, task, agency_for(template.agency_kind, commune))
    run.values["from_commune"] = old.code
    run.values["residence_commune"] = commune.code
