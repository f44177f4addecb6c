"""Guards a workflow file may name: conditions on the case that can refuse a transition."""

from __future__ import annotations

from typing import TYPE_CHECKING

from caseflow.services.effects.applicability import applicability
from caseflow.services.effects.measures import PENDING
from caseflow.services.errors import Why
from caseflow.workflow.registry import guard

if TYPE_CHECKING:
    from caseflow.services.transition import TransitionRun


@guard("no_open_measures")
def no_open_measures(run: TransitionRun) -> str | None:
    """Follow-up starts only when every task of the approved plan is done (Decree 56 Art. 30)."""
    templates = run.definition.tasks
    open_measures = [
        t
        for t in run.case.tasks
        if t.status == "open"
        and t.template in templates
        and templates[t.template].agency_kind == "from_measure"
    ]
    if open_measures:
        return Why("open_measures", count=len(open_measures))
    if (run.case.plan or {}).get(PENDING):
        return Why("measures_await_approval")
    return None


@applicability("task_to_finish")
def task_to_finish(run: TransitionRun) -> str | None:
    """A trigger that only answers a prompt (decide not to separate) needs that prompt open."""
    kinds = set(run.transition.completes)
    if any(t.status == "open" and t.kind in kinds for t in run.case.tasks):
        return None
    return "There is no open task for this step"
