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


def effect(name: str) -> Callable:
    def register(fn: Callable) -> Callable:
        EFFECTS[name] = fn
        return fn

    return register


def guard(name: str) -> Callable:
    def register(fn: Callable) -> Callable:
        GUARDS[name] = fn
        return fn

    return register


from caseflow.services.effects import (  # noqa: E402, F401 - each module registers its names
    handover,
    measures,
    proceedings,
    reporter,
    separation,
)
