"""Handing a case over to another commune (the child moved): asked by the owning commune,
accepted or declined by the receiving one (Decree 56 Art. 27: the residence commune owns the
plan). On acceptance the plan side moves: the case's residence, its tasks' copies of its
communes, the commune's open tasks, and the open measure tasks of the old commune's agencies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from caseflow.models import Agency, OrgUnit, Task
from caseflow.services import outbox
from caseflow.services.effects.applicability import applicability
from caseflow.services.errors import Invalid, Why
from caseflow.services.routing import agency_for
from caseflow.workflow.definition import TransitionDef
from caseflow.workflow.registry import effect

if TYPE_CHECKING:
    from caseflow.services.transition import TransitionRun


def _commune_field(transition: TransitionDef) -> str:
    """The trigger's field naming the new commune: its one field of type commune."""
    names = [f.name for f in transition.fields if f.type == "commune"]
    if len(names) != 1:
        raise ValueError(f"request_handover needs exactly one commune field on {transition.trigger!r}")
    return names[0]


@applicability("handover_pending")
def handover_pending(run: TransitionRun) -> str | None:
    return None if run.case.pending_handover_id else "No handover awaits acceptance"


@applicability("no_handover_pending")
def no_handover_pending(run: TransitionRun) -> str | None:
    unit = run.case.pending_handover
    return Why("handover_waiting", commune=unit.code) if unit else None


@effect("request_handover")
def request_handover(run: TransitionRun, transition: TransitionDef) -> None:
    name = _commune_field(transition)
    commune: OrgUnit = run.values[name]
    if commune.id == run.case.residence_commune_id:
        raise Invalid({f"data.{name}": Why("already_residence")})
    run.change(run.case, pending_handover=commune, pending_handover_id=commune.id)


@effect("decline_handover")
def decline_handover(run: TransitionRun, transition: TransitionDef) -> None:
    run.values["declined_by_commune"] = run.case.pending_handover.code
    run.change(run.case, pending_handover=None, pending_handover_id=None)


def _reroute(run: TransitionRun, task: Task, agency: Agency) -> None:
    run.record("task_rerouted", data={"task_id": task.id, "from": task.agency.code, "to": agency.code})
    run.change(task, agency=agency, agency_id=agency.id)
    outbox.queue_for_agency(
        "task_created",
        agency,
        case=run.case,
        task=task,
        dedupe=outbox.dedupe_key("task_created", run.case, task, 0, agency.email, agency.code),
    )


@effect("accept_handover")
def accept_handover(run: TransitionRun, transition: TransitionDef) -> None:
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
