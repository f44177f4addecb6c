"""Effects for the reports: constant figures a trigger records, and the ad-hoc report of a serious case."""

from __future__ import annotations

from typing import TYPE_CHECKING

from caseflow.services import adhoc
from caseflow.workflow.definition import TransitionDef
from caseflow.workflow.registry import effect

if TYPE_CHECKING:
    from caseflow.services.transition import TransitionRun


@effect("record_constants")
def record_constants(run: TransitionRun, transition: TransitionDef) -> None:
    """The case columns the trigger's `records:` sets, whatever was sent (dismiss: the closure
    outcome "unfounded", so the reports tell a dismissed report from a closed case)."""
    values = run.definition.lists.records.get(transition.trigger, {})
    if values:
        run.change(run.case, **values)


@effect("adhoc_report")
def adhoc_report(run: TransitionRun, transition: TransitionDef) -> None:
    adhoc.report_if_serious(run)
