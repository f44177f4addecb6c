"""Which guards say whether a trigger applies to a case at all, so pages and `allowed_triggers`
offer only what can be done: extend a separation only while one runs, accept a handover only
while one waits. Other guards (open measures) leave the trigger offered and explain the 409.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from caseflow.workflow import registry

F = TypeVar("F", bound=Callable[..., Any])
APPLICABILITY: set[str] = set()


def applicability(name: str) -> Callable[[F], F]:
    """Register `fn` as guard `name` (caseflow.workflow.registry) that also hides its trigger."""

    def decorate(fn: F) -> F:
        APPLICABILITY.add(name)
        return registry.guard(name)(fn)

    return decorate


class _CaseOnly:
    """What an applicability guard reads: the case and the trigger, outside any transition."""

    def __init__(self, case: Any, transition: Any) -> None:
        self.case = case
        self.transition = transition


def applicable(transition: Any, case: Any) -> bool:
    """False when one of the trigger's applicability guards refuses it for this case."""
    probe = _CaseOnly(case, transition)
    return not any(registry.GUARDS[name](probe) for name in transition.guards if name in APPLICABILITY)
