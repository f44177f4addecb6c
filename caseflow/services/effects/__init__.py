"""The guards and effects the workflow file names per transition, registered by name.

Until the architecture branch's `caseflow/workflow/registry.py` lands, the registry is
here with the same interface: `@effect("name")` registers `fn(run, transition) -> None`,
`@guard("name")` registers `fn(run) -> str | None` (a refusal, or None to let it pass).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

EFFECTS: dict[str, Callable[[Any, Any], None]] = {}
GUARDS: dict[str, Callable[[Any], str | None]] = {}
# Guards that say whether a trigger applies at all (the child is separated, a handover awaits):
# a trigger they refuse is not offered. Others (open measures) are offered and explain the 409.
APPLICABILITY: set[str] = set()


def effect(name: str) -> Callable:
    def register(fn: Callable) -> Callable:
        EFFECTS[name] = fn
        return fn

    return register


def guard(name: str, *, applicability: bool = False) -> Callable:
    def register(fn: Callable) -> Callable:
        GUARDS[name] = fn
        if applicability:
            APPLICABILITY.add(name)
        return fn

    return register


class _CaseOnly:
    """What an applicability guard reads: the case and the trigger, outside any transition."""

    def __init__(self, case: Any, transition: Any) -> None:
        self.case = case
        self.transition = transition


def applicable(transition: Any, case: Any) -> bool:
    """False when one of the trigger's applicability guards refuses it for this case."""
    probe = _CaseOnly(case, transition)
    return not any(GUARDS[name](probe) for name in transition.guards if name in APPLICABILITY)


@guard("task_to_finish", applicability=True)
def _task_to_finish(run: Any) -> str | None:
    """A trigger that only answers a prompt (decide not to separate) needs that prompt open."""
    kinds = set(run.transition.completes)
    if any(t.status == "open" and t.kind in kinds for t in run.case.tasks):
        return None
    return "There is no open task for this step"


from caseflow.services.effects import (  # noqa: E402, F401 - each module registers its names
    handover,
    measures,
    proceedings,
    reporter,
    separation,
)
