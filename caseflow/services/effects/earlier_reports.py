"""A reopened case is a new report on the same child: it looks for the child's other records."""

from __future__ import annotations

from typing import Any

from caseflow.services import duplicates
from caseflow.workflow.registry import effect


@effect("link_earlier_reports")
def link_earlier_reports(run: Any, transition: Any) -> None:
    found = duplicates.earlier_cases(run.case)
    if found != (run.case.related_case_ids or []):
        run.change(run.case, related_case_ids=found or None)
