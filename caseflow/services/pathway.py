"""The path a case has taken through the procedure, read from its trail, for the case page's diagram.

The definition's order of states is not the case's story: a dismissed report never had a plan,
a rejected plan went back to assessment, a reopened case started again. The trail says what
happened; this module turns it into visited states, back-edges and the current state. A back-edge
is any move to a state that comes earlier in the definition's order than the one it left (the
workflow file decides which triggers those are; no trigger is named here).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from caseflow.workflow.definition import TransitionDef, WorkflowDefinition

# What each state is to this case, as the diagram shows it.
DONE = "done"  # visited and left
CURRENT = "current"
REDO = "redo"  # visited, but the case went back before it since: to be done again
NOT_REACHED = "not_reached"  # passed over: the case went another way (a dismissed report's plan)
AHEAD = "ahead"  # may still come
UNKNOWN = "unknown"  # no trail was given (agency staff do not see it): before the current state


@dataclass(frozen=True)
class Step:
    """One move along the path: into `state`, by `trigger` (None for the opening of the case)."""

    state: str
    at: datetime | None
    trigger: str | None = None
    from_state: str | None = None
    back: bool = False  # a back-edge: to a state earlier in the procedure
    reason: str | None = None


@dataclass(frozen=True)
class StateMark:
    name: str
    label: dict[str, str]
    terminal: bool
    status: str
    visits: int


@dataclass
class Pathway:
    current: str
    states: list[StateMark]
    steps: list[Step] = field(default_factory=list)
    next: list[TransitionDef] = field(default_factory=list)  # where each trigger leads from here

    @property
    def back_edges(self) -> list[Step]:
        return [s for s in self.steps if s.back]

    @property
    def visited(self) -> list[str]:
        return [m.name for m in self.states if m.visits]

    def visits_of(self, state: str) -> int:
        return next((m.visits for m in self.states if m.name == state), 0)


def _get(event: Any, name: str) -> Any:
    return event.get(name) if isinstance(event, dict) else getattr(event, name, None)


def pathway_of(definition: WorkflowDefinition, current: str, events: Iterable[Any]) -> Pathway:
    """The path from the trail's `created` and `transition` events (ORM rows or dicts with
    kind, at, from_state, to_state, data), and the case's current state."""
    order = list(definition.states)
    rank = {name: i for i, name in enumerate(order)}
    steps: list[Step] = []
    for event in events:
        kind, data = _get(event, "kind"), _get(event, "data") or {}
        to_state, from_state = _get(event, "to_state"), _get(event, "from_state")
        if kind == "created" and to_state:
            steps.append(Step(to_state, _get(event, "at")))
        elif kind == "transition" and to_state and from_state and to_state != from_state:
            back = rank.get(to_state, 0) < rank.get(from_state, 0)
            reason = data.get("reason") if back and isinstance(data.get("reason"), str) else None
            steps.append(Step(to_state, _get(event, "at"), data.get("trigger"), from_state, back, reason))
    if not steps:  # no trail to read (agency staff): only where the case stands
        return Pathway(
            current=current,
            states=[
                StateMark(
                    name,
                    state.label,
                    state.terminal,
                    CURRENT if name == current else AHEAD if rank[name] > rank[current] else UNKNOWN,
                    int(name == current),
                )
                for name, state in definition.states.items()
            ],
            steps=[Step(current, None)],
            next=[t for t in definition.transitions.values() if current in t.source],
        )
    visits: dict[str, int] = {}
    last_visit: dict[str, int] = {}
    for i, step in enumerate(steps):
        visits[step.state] = visits.get(step.state, 0) + 1
        last_visit[step.state] = i
    # How far the case has come since it last went back: states before that and never visited
    # were passed over; after it they may still come.
    round_start = max((i for i, step in enumerate(steps) if step.back), default=0)
    furthest = max((rank.get(s.state, 0) for s in steps[round_start:]), default=0)
    marks = []
    for name, state in definition.states.items():
        if name == current:
            status = CURRENT
        elif visits.get(name):
            went_back = any(
                step.back and rank.get(step.state, 0) <= rank[name] for step in steps[last_visit[name] + 1 :]
            )
            status = REDO if went_back else DONE
        elif rank[name] < furthest or definition.states[current].terminal:
            # Passed over on the way (or the case is over): it did not happen to this case.
            status = NOT_REACHED
        else:
            status = AHEAD
        marks.append(StateMark(name, state.label, state.terminal, status, visits.get(name, 0)))
    moves = [t for t in definition.transitions.values() if current in t.source]
    return Pathway(current=current, states=marks, steps=steps, next=moves)
