"""The named guards and effects a workflow file may call, so the loader can check each name.

The procedure file says *which* special behaviour a transition has (`effects: [hand_over]`,
`guards: [no_open_measures]`); the code registered here says *how*. Implementations live in
`caseflow/services/effects/` and register themselves when that package is imported (the app
factory imports it before the definition is loaded, so an unknown name fails at start-up).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

# An effect runs inside the transition, after the fields are stored and before the tasks
# are finished and the transition's event is recorded: fn(run, transition) -> None.
Effect = Callable[[Any, Any], None]
# A guard may refuse the transition: fn(run) -> a refusal message, or None to let it pass.
Guard = Callable[[Any], "str | None"]

EFFECTS: dict[str, Effect] = {}
GUARDS: dict[str, Guard] = {}

F = TypeVar("F", bound=Callable[..., Any])


def _register(table: dict[str, Any], what: str, name: str) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        existing = table.get(name)
        if existing is not None and existing is not fn and existing.__qualname__ != fn.__qualname__:
            raise ValueError(f"{what} {name!r} is registered twice ({existing.__module__}, {fn.__module__})")
        table[name] = fn
        return fn

    return decorate


def effect(name: str) -> Callable[[F], F]:
    """Register `fn(run, transition)` as the effect a workflow file calls `name`."""
    return _register(EFFECTS, "effect", name)


def guard(name: str) -> Callable[[F], F]:
    """Register `fn(run) -> str | None` as the guard a workflow file calls `name`."""
    return _register(GUARDS, "guard", name)


__all__ = ["EFFECTS", "GUARDS", "effect", "guard"]
