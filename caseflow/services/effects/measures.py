"""Plans change while they run (Art. 30.1): a measure that cannot be done is cancelled with its
reason and others proposed; the added ones open as tasks only once the chair approves them."""

from __future__ import annotations

from typing import Any

from caseflow.services.effects.applicability import applicability
from caseflow.services.errors import Invalid
from caseflow.services.trigger_input import agencies_by_code
from caseflow.services.validation import parse_moment
from caseflow.workflow.registry import effect

PENDING = "pending_measures"  # the plan's measures awaiting the chair, kept in the plan itself


def _measure_template(run: Any) -> Any:
    """The template of a plan measure's task (its agency comes from the measure)."""
    return next(t for t in run.definition.tasks.values() if t.agency_kind == "from_measure")


def _pending(case: Any) -> list[dict]:
    return list((case.plan or {}).get(PENDING) or [])


@applicability("measures_awaiting_approval")
def _awaiting(run: Any) -> str | None:
    return None if _pending(run.case) else "No added measures await approval"


def open_measure_tasks(run: Any) -> dict[int, Any]:
    template = _measure_template(run)
    return {t.id: t for t in run.case.tasks if t.status == "open" and t.template == template.id}


@effect("revise_measures")
def revise_measures(run: Any, transition: Any) -> None:
    cancel, added, reason = (
        run.values.get("cancel") or [],
        run.values.get("measures"),
        run.values.get("reason"),
    )
    open_tasks = open_measure_tasks(run)
    errors = {}
    if not cancel and not added:
        errors["data.measures"] = "give measures to add, or cancel: task ids of measures to cancel"
    for i, task_id in enumerate(cancel):
        if task_id not in open_tasks:
            errors[f"data.cancel[{i}]"] = f"task {task_id} is not an open measure of this case"
    if cancel and not reason:
        errors["data.reason"] = "is required: why the measures are cancelled"
    if errors:
        raise Invalid(errors)
    for task_id in dict.fromkeys(cancel):
        task = open_tasks[task_id]
        run.change(task, status="cancelled", completed_at=run.now, outcome=reason)
        run.record(
            "task_cancelled",
            data={"task_id": task.id, "kind": task.kind, "by_trigger": transition.trigger, "reason": reason},
        )
    if added:
        plan = dict(run.case.plan or {})
        plan[PENDING] = [*_pending(run.case), *added]
        run.change(run.case, plan=plan)


@effect("approve_measures")
def approve_measures(run: Any, transition: Any) -> None:

    plan = dict(run.case.plan or {})
    added = plan.pop(PENDING, None) or []
    plan["measures"] = [*plan.get("measures", []), *added]
    run.change(run.case, plan=plan)
    template = _measure_template(run)
    agencies = agencies_by_code({m["agency"] for m in added})
    for measure in added:
        run.create_task(
            template,
            agency=agencies[measure["agency"]],
            due=parse_moment(measure["due_at"]),
            description=measure["description"],
        )


@effect("reject_measures")
def reject_measures(run: Any, transition: Any) -> None:
    plan = dict(run.case.plan or {})
    plan.pop(PENDING, None)
    run.change(run.case, plan=plan)
