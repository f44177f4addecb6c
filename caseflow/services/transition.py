"""Firing a trigger on a case: check who, when and what, then let the Machine move it.

Everything a transition changes (the case, its tasks, its audit events, its
outgoing notifications) is written in one database transaction: it all
commits, or none of it does. The parts live by job: the trigger's input in
`trigger_input`, where its values are kept in `case_fields`, its tasks in
`task_builder`, the versioned writes in `writes`, the trail in `audit`, and the
named guards and effects of the workflow file in `services/effects/`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from caseflow.models import Agency, Case, CaseEvent, Task, User
from caseflow.models.types import utcnow
from caseflow.services import access, audit, case_fields, counts, forms, outbox
from caseflow.services.errors import Conflict, Forbidden, Invalid, Why
from caseflow.services.recipients import recipients_of
from caseflow.services.task_builder import TaskBuilder
from caseflow.services.trigger_input import parse_transition_values
from caseflow.services.writes import Changes, case_write
from caseflow.workflow import registry
from caseflow.workflow.definition import TaskSpawn, TaskTemplate, TransitionDef
from caseflow.workflow.engine import Engine, MachineError


class TransitionRun:
    """The context a transition runs in: the Machine calls back into it for guards and effects,
    and the registered effects and guards (caseflow.workflow.registry) receive it."""

    def __init__(
        self,
        engine: Engine,
        case: Case,
        actor: User | None,
        values: dict[str, Any],
        actor_label: str | None = None,
    ) -> None:
        self.engine = engine
        self.definition = engine.definition
        self.case = case
        self.actor = actor
        self.actor_label = actor_label
        self.values = values
        self.now = utcnow()
        self.guard_failures: list[str] = []
        self._changes = Changes()
        self._tasks = TaskBuilder(self)
        # While a transition applies its effects, its events and new-task mails wait here as
        # plain rows, and go in one INSERT each once its tasks have ids (see write_held_rows).
        self._held_events: list[dict] | None = None
        self._held_mails: list[dict] = []

    # -- called by the Machine ------------------------------------------------
    def guards_pass(self, transition: TransitionDef) -> bool:
        self.transition = transition  # some guards ask what the trigger finishes
        for name in transition.guards:
            message = registry.GUARDS[name](self)
            if message:
                self.guard_failures.append(message)
        return not self.guard_failures

    def apply_effects(self, transition: TransitionDef, source: str, dest: str) -> None:
        case, values, definition = self.case, self.values, self.definition
        self._held_events = []
        was_open = counts.open_pair(case, not definition.states[source].terminal)
        changes = case_fields.changes_for(transition, case, values)
        changes["state"] = dest
        if transition.closes_with:
            changes["closure_reason"] = values[transition.closes_with]
        moved = transition.dest is not None and transition.dest != source
        if transition.dest is not None:
            changes["state_entered_at"] = self.now
        changes["closed_at"] = self.now if definition.states[dest].terminal else None
        if transition.dest is not None and transition.dest == definition.initial and moved:
            changes["reopened_at"] = self.now
        self.change(case, **changes)
        for name in transition.effects:
            registry.EFFECTS[name](self, transition)
        self._tasks.close_open(transition)
        public = {k: v for k, v in values.items() if not k.startswith("_")}
        self.record(
            "transition",
            from_state=source,
            to_state=dest,
            data={"trigger": transition.trigger, **public},
        )
        self.write_changes()
        # After the case's versioned write: a lost race is the 409 of a stale case, not a clash of revisions.
        forms.record_from_trigger(self, transition)  # the annex form the trigger fills (records_form)
        if transition.dest is not None:
            self._tasks.for_state(transition.dest)
        self._tasks.for_transition(transition)
        self.finish_tasks()
        for kind in transition.notify:  # after the tasks: `task_agencies` names the new ones too
            self._notify(kind)
        self.write_held_rows()
        self.write_changes()  # a change made after the first write must not be lost
        # Last, so the counter rows stay locked (PostgreSQL) only until the commit that follows.
        counts.record_open_change(
            was_open, counts.open_pair(case, not definition.states[case.state].terminal)
        )

    # -- the run's API for effects, guards and the other writers -----------------
    def change(self, row: Case | Task, **values: Any) -> None:
        """Set attributes of the case or one of its tasks, written by `write_changes` (see
        `writes.Changes.change`)."""
        self._changes.change(row, **values)

    def write_changes(self) -> None:
        """Send the changes so far: one versioned UPDATE per row (see `writes.Changes.write`)."""
        self._changes.write(self.now)

    def enter_state(self, state: str) -> None:
        """Create and write the tasks `state` starts with (a case opened in its first state)."""
        self._tasks.for_state(state)
        self.finish_tasks()

    def spawn(self, spawns: Iterable[TaskSpawn], values: dict[str, Any]) -> None:
        """Create the tasks a `creates:` list declares (the report's own at intake)."""
        self._tasks.spawn(spawns, values)

    def create_task(
        self,
        template: TaskTemplate,
        *,
        agency: Agency | None = None,
        due: datetime | None = None,
        description: str | None = None,
    ) -> None:
        """Route a task of `template` and set its deadline; `finish_tasks` writes it."""
        self._tasks.create(template, agency=agency, due=due, description=description)

    def finish_tasks(self) -> None:
        """Write the tasks created so far in one INSERT, record their events, queue their mails."""
        self.queue_mails(self._tasks.finish())

    def queue_mails(self, rows: list[dict]) -> None:
        """Outbox rows (`outbox.case_row`) whose keys only this transaction can write: held for
        the one INSERT of `write_held_rows` inside a transition, written at once otherwise."""
        if self._held_events is not None:
            self._held_mails += rows
        else:
            outbox.insert_fresh(rows)

    def write_held_rows(self) -> None:
        """The transition's events, in the order recorded, and its new tasks' mails: one INSERT
        each. As ORM objects they cost more CPU than all its other writes together."""
        events, self._held_events = self._held_events or [], None
        mails, self._held_mails = self._held_mails, []
        audit.insert_rows(events)
        outbox.insert_fresh(mails)

    def record(
        self,
        kind: str,
        *,
        from_state: str | None = None,
        to_state: str | None = None,
        data: dict | None = None,
    ) -> CaseEvent | None:
        """Add an event to the case's trail (through `audit`). Inside a transition it is held
        as a row for `write_held_rows` (None is returned); otherwise it is added to the session."""
        fields = {
            "at": self.now,
            "actor": self.actor,
            "actor_label": self.actor_label,
            "from_state": from_state,
            "to_state": to_state,
            "data": data,
        }
        if self._held_events is not None:
            self._held_events.append(audit.event_row(self.case.id, kind, **fields))
            return None
        return audit.add(self.case.id, kind, **fields)

    def _notify(self, kind: str) -> None:
        """Queue the notification to the recipients the file declares for it: once per version of
        the case and recipient, and the version is the one this transition wrote."""
        notification = self.definition.notifications[kind]
        self.queue_mails(
            [
                outbox.case_mail_row(kind, self.case, recipient.email, recipient.locale)
                for recipient in recipients_of(self.definition, self.case, notification)
            ]
        )


def fire(
    engine: Engine,
    case: Case,
    user: User | None,
    trigger: str,
    version: object,
    data: object,
    actor_label: str | None = None,
) -> Case:
    """Fire `trigger` on a case the caller can already see, and commit."""
    definition = engine.definition
    transition = definition.transitions.get(trigger) if isinstance(trigger, str) else None
    if transition is None:
        raise Invalid({"trigger": Why("unknown_trigger", choices=", ".join(definition.transitions))})
    if user is not None and not access.may_fire(user, definition, case, trigger):
        raise Forbidden.because("may_not_fire", trigger=trigger)
    if not isinstance(version, int) or isinstance(version, bool):
        raise Invalid({"version": Why("version_required")})
    if version != case.version:
        raise Conflict.because("stale_version", version=case.version, sent=version)
    if case.state not in transition.source:
        raise Conflict.because("not_in_state", trigger=trigger, state=case.state)
    run = TransitionRun(engine, case, user, {}, actor_label)
    run.values = parse_transition_values(transition, data, run.now, case)
    with case_write():
        try:
            moved = engine.fire(case.state, trigger, run)
        except MachineError as exc:
            raise Conflict.because("not_in_state", trigger=trigger, state=case.state) from exc
        if not moved:
            first = run.guard_failures[0] if run.guard_failures else None
            if isinstance(first, Why):  # a guard that says why in data: pages can translate it
                raise Conflict("; ".join(run.guard_failures), reason=first.code, params=first.params)
            raise Conflict("; ".join(run.guard_failures) or Why("guard_refused", trigger=trigger))
    return case


__all__ = ["TransitionRun", "case_write", "fire"]
