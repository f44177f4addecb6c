"""The `hand_over` effect: the case moves to the child's new commune of residence.

The trigger's `commune` field names the new commune; the case, its tasks' copies of its
communes, and the open commune-held tasks of the plan side move with it (Decree 56 Art. 27:
the residence commune owns the plan).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from caseflow.models import OrgUnit
from caseflow.services import outbox
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
        raise ValueError(f"hand_over needs exactly one commune field on {transition.trigger!r}")
    return names[0]


@effect("hand_over")
def hand_over(run: TransitionRun, transition: TransitionDef) -> None:
    name = _commune_field(transition)
    commune: OrgUnit = run.values[name]
    case = run.case
    if commune.id == case.residence_commune_id:
        raise Invalid({f"data.{name}": Why("already_residence")})
    old = case.residence_commune
    run.change(case, residence_commune=commune, residence_commune_id=commune.id)
    for task in case.tasks:  # the tasks' copy of the case's communes moves with it
        run.change(task, residence_commune_id=commune.id)
    # Open commune-held tasks of the plan side follow the child to the new commune.
    for task in case.tasks:
        template = run.definition.tasks.get(task.template)
        if (
            task.status == "open"
            and template
            and template.commune == "residence"
            and template.agency_kind != "from_measure"
        ):
            new_agency = agency_for(template.agency_kind, commune)
            run.record(
                "task_rerouted",
                data={"task_id": task.id, "from": task.agency.code, "to": new_agency.code},
            )
            run.change(task, agency=new_agency, agency_id=new_agency.id)
            outbox.queue_for_agency(
                "task_created",
                new_agency,
                case=case,
                task=task,
                dedupe=outbox.dedupe_key("task_created", case, task, 0, new_agency.email, new_agency.code),
            )
    run.values["from_commune"] = old.code
