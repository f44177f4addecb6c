"""Guards a workflow file may name: conditions on the case that can refuse a transition."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    return None
