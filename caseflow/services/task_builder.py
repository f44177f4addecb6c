"""Building a transition's tasks: which templates, routed to which agency, due when.

A transition's new tasks are routed together (one query for the communes' own agencies of
those kinds, see services/routing.py) and written in one INSERT; their `task_created`
events and mails follow once they have ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm.attributes import set_committed_value

from caseflow.database import insert_loaded
from caseflow.extensions import db
from caseflow.models import Agency, OrgUnit, Task
from caseflow.services import case_fields, outbox
from caseflow.services.calendar import load_calendar
from caseflow.services.routing import agencies_for
from caseflow.services.trigger_input import agencies_by_code
from caseflow.services.validation import parse_moment
from caseflow.workflow.clock import WorkingCalendar, compute_due
from caseflow.workflow.definition import TaskSpawn, TaskTemplate, TransitionDef

if TYPE_CHECKING:
    from caseflow.services.transition import TransitionRun


class TaskBuilder:
    """The tasks a run creates, held until `finish` routes and writes them together."""

    def __init__(self, run: TransitionRun) -> None:
        self.run = run
        # New task rows with their agency, or the (commune, agency kind) to route them to.
        self._pending: list[tuple[dict, Agency | tuple[OrgUnit, str]]] = []
        self._calendar: WorkingCalendar | None = None

    def create(
        self,
        template: TaskTemplate,
        *,
        agency: Agency | None = None,
        due: datetime | None = None,
        description: str | None = None,
    ) -> None:
        """Hold a task of `template` with its deadline; `finish` routes and writes it."""
        case = self.run.case
        commune = case.incident_commune if template.commune == "incident" else case.residence_commune
        if due is None:
            due = self._due(template)
        row = {
            "case_id": case.id,
            "kind": template.kind,
            "template": template.id,
            "description": description,
            "agency_id": agency.id if agency else None,  # else routed in finish
            "incident_commune_id": case.incident_commune_id,
            "residence_commune_id": case.residence_commune_id,
            "case_received_at": case.received_at,
            "status": "open",
            "due_at": due,
            "rule": template.deadline.describe(),
            "legal_basis": template.basis,
            "workflow_version": case.workflow_version,
            "created_at": self.run.now,
            "completed_at": None,
            "completed_by_id": None,
            "outcome": None,
            "note": None,
            "escalation_level": 0,
            "warned_at": None,
            "row_version": 1,
        }
        self._pending.append((row, agency or (commune, template.agency_kind)))

    def for_state(self, state: str) -> None:
        """The tasks a state starts with (the `tasks:` of the state in the file)."""
        definition = self.run.definition
        for task_id in definition.states[state].tasks:
            self.create(definition.tasks[task_id])

    def for_transition(self, transition: TransitionDef) -> None:
        """The tasks a transition `creates:` (see `spawn`)."""
        self.spawn(transition.creates, self.run.values)

    def spawn(self, spawns: Iterable[TaskSpawn], values: dict[str, Any]) -> None:
        """Tasks of a `creates:` list, each when one of its `when_any` flags is set, or one per
        measure of the plan the case keeps (`for_each: measures`); a `once` task not again while
        the case has it since it was received or reopened (the report's own emergency tasks)."""
        run = self.run
        for spawn in spawns:
            if spawn.when_any and not any(values.get(flag) for flag in spawn.when_any):
                continue
            if spawn.once and self._has_since_opened(spawn.task):
                continue
            template = run.definition.tasks[spawn.task]
            if spawn.for_each == "measures":
                spec = case_fields.measures_field(run.definition)
                measures = (case_fields.stored(run.case, spec) if spec else None) or []
                agencies = agencies_by_code({m["agency"] for m in measures})
                for measure in measures:
                    self.create(
                        template,
                        agency=agencies[measure["agency"]],
                        due=parse_moment(measure["due_at"]),
                        description=measure["description"],
                    )
            else:
                self.create(template)

    def _has_since_opened(self, template_id: str) -> bool:
        case = self.run.case
        if any(row["template"] == template_id for row, _ in self._pending):
            return True
        since = case.reopened_at
        return any(
            t.template == template_id and t.status != "cancelled" and (since is None or t.created_at >= since)
            for t in (case.tasks if case.id is not None else [])
        )

    def close_open(self, transition: TransitionDef) -> None:
        """Mark the open tasks the transition `completes:` done, and cancel the rest if it says so."""
        run = self.run
        for task in run.case.tasks:
            if task.status != "open":
                continue
            if task.kind in transition.completes:
                run.change(
                    task,
                    status="done",
                    completed_at=run.now,
                    completed_by_id=run.actor.id if run.actor else None,
                    outcome=f"by {transition.trigger}",
                )
                run.record(
                    "task_completed",
                    data={"task_id": task.id, "kind": task.kind, "by_trigger": transition.trigger},
                )
            elif transition.cancels_open_tasks:
                run.change(task, status="cancelled", completed_at=run.now)
                run.record(
                    "task_cancelled",
                    data={"task_id": task.id, "kind": task.kind, "by_trigger": transition.trigger},
                )

    def finish(self) -> list[dict[str, Any]]:
        """Route and write the tasks held so far in one INSERT (see `insert_loaded`), add them
        to the case's tasks and record their events; returns their mails as outbox rows."""
        pending, self._pending = self._pending, []
        if not pending:
            return []
        run = self.run
        case = run.case
        was_new = case.id is None
        if was_new:
            db.session.flush()  # a case opened in this transaction: its row and id first
        existing = [] if was_new else case.tasks
        routes = list(dict.fromkeys(target for _, target in pending if isinstance(target, tuple)))
        routed = agencies_for(routes) if routes else {}
        agencies = []
        for row, target in pending:
            agency = routed[target[0].id, target[1]] if isinstance(target, tuple) else target
            row["case_id"], row["agency_id"] = case.id, agency.id
            agencies.append(agency)
        tasks = insert_loaded(db.session, Task, [row for row, _ in pending])
        for task, agency in zip(tasks, agencies, strict=True):
            set_committed_value(task, "agency", agency)
            set_committed_value(task, "case", case)
        set_committed_value(case, "tasks", [*existing, *tasks])
        for task in tasks:
            run.record(
                "task_created",
                data={
                    "task_id": task.id,
                    "kind": task.kind,
                    "agency": task.agency.code,
                    "due_at": task.due_at.isoformat(),
                    "rule": task.rule,
                    "basis": task.legal_basis,
                },
            )
        return [outbox.task_created_row(case, t) for t in tasks]

    def _due(self, template: TaskTemplate) -> datetime:
        rule = template.deadline
        if rule.anchor == "received_at":
            start = self.run.case.reopened_at or self.run.case.received_at
        else:
            start = self.run.now
        if self._calendar is None and rule.working_days is not None:
            self._calendar = load_calendar()
        return compute_due(start, self._calendar, hours=rule.hours, working_days=rule.working_days)


__all__ = ["TaskBuilder"]
