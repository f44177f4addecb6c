"""One `transitions` Machine per workflow definition, shared by every case.

Following transitions' guidance the Machine has no models: the case's state is
passed in when a trigger fires (`machine.events[trigger].trigger(...)`), so
thousands of cases cost one Machine. The Machine decides whether a trigger is
valid from the case's state and runs the guards; the effects of a transition
(the new state, tasks, audit events, notifications) are carried out by the `ctx`
the service layer passes in, inside the same database transaction.
"""

from __future__ import annotations

from typing import Protocol

from transitions import EventData, Machine, MachineError

from caseflow.workflow.definition import TransitionDef, WorkflowDefinition, load_definition


class TransitionContext(Protocol):
    def guards_pass(self, transition: TransitionDef) -> bool: ...

    def apply_effects(self, transition: TransitionDef, source: str, dest: str) -> None: ...


class _StateOf:
    """What the Machine reads and moves: a copy of the case's state. The Machine never sets
    attributes of the stored case; the context writes the new state with the rest of the
    transition's changes."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


class Engine:
    def __init__(self, definition: WorkflowDefinition) -> None:
        self.definition = definition
        self.machine = Machine(
            model=None,
            states=list(definition.states),
            initial=definition.initial,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for t in definition.transitions.values():
            self.machine.add_transition(
                t.trigger,
                list(t.source),
                t.dest,  # None makes an internal transition: the state stays
                conditions=[self._guards_pass],
                before=[self._remember_source],
                after=[self._apply_effects],
            )

    def allowed_from(self, state: str) -> list[str]:
        return [t.trigger for t in self.definition.transitions.values() if state in t.source]

    def fire(self, state: str, trigger: str, ctx: TransitionContext) -> bool:
        """Fire `trigger` from `state`. False if a guard refused; MachineError if the state forbids.
        On success the Machine has called `ctx.apply_effects` with the state it moved to."""
        return self.machine.events[trigger].trigger(_StateOf(state), ctx=ctx)

    def _guards_pass(self, event: EventData) -> bool:
        return event.kwargs["ctx"].guards_pass(self.definition.transitions[event.event.name])

    def _remember_source(self, event: EventData) -> None:
        event.kwargs["source_state"] = event.state.name

    def _apply_effects(self, event: EventData) -> None:
        event.kwargs["ctx"].apply_effects(
            self.definition.transitions[event.event.name], event.kwargs["source_state"], event.model.state
        )


_engines: dict[str, Engine] = {}


def engine_for(path: str) -> Engine:
    """The Engine of a definition file, built once per process."""
    engine = _engines.get(path)
    if engine is None:
        engine = _engines[path] = Engine(load_definition(path))
    return engine


__all__ = ["Engine", "MachineError", "engine_for"]
