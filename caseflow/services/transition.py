"""Firing a trigger on a case: check who, when and what, then let the Machine move it.

Everything a transition changes (the case, its tasks, its audit events, its
outgoing notifications) is written in one database transaction: it all
commits, or none of it does.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Table, Update, bindparam, insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from caseflow.database import insert_loaded
from caseflow.extensions import db
from caseflow.models import Agency, Case, CaseEvent, OrgUnit, Task, User
from caseflow.models.types import utcnow
from caseflow.services import access, adhoc, counts, outbox
from caseflow.services.calendar import load_calendar
from caseflow.services.errors import Conflict, Forbidden, Invalid
from caseflow.services.routing import agencies_for, agency_for
from caseflow.services.validation import Fields, parse_moment
from caseflow.workflow.clock import compute_due
from caseflow.workflow.definition import FieldSpec, TaskTemplate, TransitionDef
from caseflow.workflow.engine import Engine, MachineError
from caseflow.workflow.lists import CASE_COLUMNS

MAX_MEASURES = 50


class TransitionRun:
    """The context a transition runs in: the Machine calls back into it for guards and effects."""

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
        self._calendar = None
        # Changed rows (the case, its tasks) and their new values, for write_changes.
        self._changes: dict[Case | Task, dict[str, Any]] = {}
        # Tasks created but not yet written, as rows with their agency, or the (commune, agency
        # kind) to route them to: all routed in one query, written in one INSERT (finish_tasks).
        self._new_tasks: list[tuple[dict, Agency | tuple[OrgUnit, str]]] = []
        # While a transition applies its effects, its events and new-task mails wait here as
        # plain rows, and go in one INSERT each once its tasks have ids (see write_held_rows).
        self._held_events: list[dict] | None = None
        self._held_mails: list[dict] = []

    # -- called by the Machine ------------------------------------------------
    def guards_pass(self, transition: TransitionDef) -> bool:
        for guard in transition.guards:
            message = GUARDS[guard](self.case)
            if message:
                self.guard_failures.append(message)
        return not self.guard_failures

    def apply_effects(self, transition: TransitionDef, source: str, dest: str) -> None:
        case, values = self.case, self.values
        self._held_events = []
        was_open = counts.open_pair(case, not self.definition.states[source].terminal)
        changes: dict[str, Any] = {"state": dest}
        for name in (
            "risk_level",
            "serious_harm",
            "caregiver_is_abuser",
            "findings",
            "criminal_referral",
            "police_case_number",
            # The figures of the reports (workflow/lists.py CASE_COLUMNS): `store: column` fields.
            *CASE_COLUMNS,
        ):
            if values.get(name) is not None:
                changes[name] = values[name]
        if transition.fields and any(f.name == "measures" for f in transition.fields):
            changes["plan"] = {"text": values["plan"], "measures": values["_measures_json"]}
        if transition.closes_with:
            changes["closure_reason"] = values[transition.closes_with]
        changes.update(self.definition.lists.records.get(transition.trigger, {}))
        moved = transition.dest is not None and transition.dest != source
        if transition.dest is not None:
            changes["state_entered_at"] = self.now
        changes["closed_at"] = self.now if self.definition.states[dest].terminal else None
        if transition.dest is not None and transition.dest == self.definition.initial and moved:
            changes["reopened_at"] = self.now
        self.change(case, **changes)
        if transition.trigger == "handover":  # the one trigger whose effect is a field of the case
            self._hand_over(values["residence_commune"])
        self._finish_open_tasks(transition)
        public = {k: v for k, v in values.items() if not k.startswith("_")}
        self.record(
            "transition",
            from_state=source,
            to_state=dest,
            data={"trigger": transition.trigger, **public},
        )
        self.write_changes()
        if transition.dest is not None:
            self._spawn_state_tasks(transition.dest)
        for spawn in transition.creates:
            if spawn.when_any and not any(values.get(flag) for flag in spawn.when_any):
                continue
            template = self.definition.tasks[spawn.task]
            if spawn.for_each == "measures":  # one task per measure of the approved plan
                measures = (case.plan or {}).get("measures", [])
                agencies = _agencies_by_code({m["agency"] for m in measures})
                for measure in measures:
                    self.create_task(
                        template,
                        agency=agencies[measure["agency"]],
                        due=parse_moment(measure["due_at"]),
                        description=measure["description"],
                    )
            else:
                self.create_task(template)
        self.finish_tasks()
        self.write_held_rows()
        for kind in transition.notify:
            self._notify(kind)
        adhoc.after_transition(self, transition)
        self.write_changes()  # a change made after the first write must not be lost (none today)
        # Last, so the counter rows stay locked (PostgreSQL) only until the commit that follows.
        counts.record_open_change(
            was_open, counts.open_pair(case, not self.definition.states[case.state].terminal)
        )

    # -- writing the case and its tasks -----------------------------------------
    def change(self, row: Case | Task, **values: Any) -> None:
        """Set attributes of the case or of one of its tasks, to be written by `write_changes`.

        The loaded object takes the values at once, as if read from the database, so the rest
        of the transition and the response see them; the ORM's unit of work never sees them
        (for a transition it cost more CPU than the statements it sent). Give a relationship
        together with its column: `change(case, residence_commune=unit, residence_commune_id=unit.id)`.
        """
        for name, value in values.items():
            set_committed_value(row, name, value)
        self._changes.setdefault(row, {}).update(values)

    def write_changes(self) -> None:
        """One UPDATE per changed row, the case first, each bumping the row's version on the
        condition that it is still the version loaded: a row changed meanwhile by another
        request fails the transition (StaleDataError, a 409), as the ORM's version check did."""
        rows = sorted(self._changes.items(), key=lambda item: not isinstance(item[0], Case))
        self._changes = {}
        for row, values in rows:
            table = type(row).__table__
            version = "version" if isinstance(row, Case) else "row_version"
            loaded = getattr(row, version)
            columns = {name: value for name, value in values.items() if name in table.c}
            columns[version] = loaded + 1
            if isinstance(row, Case):
                columns["updated_at"] = self.now
            statement = _versioned_update(table, version, frozenset(columns))
            params = {f"new_{name}": value for name, value in columns.items()}
            result = db.session.execute(statement, {**params, "_id": row.id, "_loaded": loaded})
            if result.rowcount != 1:
                raise StaleDataError(f"{table.name} {row.id} changed since it was loaded")
            set_committed_value(row, version, loaded + 1)
            if isinstance(row, Case):
                set_committed_value(row, "updated_at", self.now)

    # -- effects ----------------------------------------------------------------
    def enter_state(self, state: str) -> None:
        self._spawn_state_tasks(state)
        self.finish_tasks()

    def _spawn_state_tasks(self, state: str) -> None:
        for task_id in self.definition.states[state].tasks:
            self.create_task(self.definition.tasks[task_id])

    def create_task(
        self,
        template: TaskTemplate,
        *,
        agency: Agency | None = None,
        due: datetime | None = None,
        description: str | None = None,
    ) -> None:
        """Route a task of `template` and set its deadline; `finish_tasks` writes it."""
        case = self.case
        commune = case.incident_commune if template.commune == "incident" else case.residence_commune
        if due is None:
            due = self._due(template)
        row = {
            "case_id": case.id,
            "kind": template.kind,
            "template": template.id,
            "description": description,
            "agency_id": agency.id if agency else None,  # else routed in finish_tasks
            "incident_commune_id": case.incident_commune_id,
            "residence_commune_id": case.residence_commune_id,
            "status": "open",
            "due_at": due,
            "rule": template.deadline.describe(),
            "legal_basis": template.basis,
            "workflow_version": case.workflow_version,
            "created_at": self.now,
            "completed_at": None,
            "completed_by_id": None,
            "outcome": None,
            "note": None,
            "escalation_level": 0,
            "warned_at": None,
            "row_version": 1,
        }
        self._new_tasks.append((row, agency or (commune, template.agency_kind)))

    def finish_tasks(self) -> None:
        """Write the tasks created so far in one INSERT (see `insert_loaded`), add them to the
        case's tasks, then record their events and queue their mails."""
        pending, self._new_tasks = self._new_tasks, []
        if not pending:
            return
        case = self.case
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
            self.record(
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
        mails = [
            outbox.fresh_row(
                "task_created", t.agency.email, case=case, task=t, locale=t.agency.locale or "vi"
            )
            for t in tasks
        ]
        if self._held_events is not None:
            self._held_mails += mails
        else:
            outbox.insert_fresh(mails)

    def write_held_rows(self) -> None:
        """The transition's events, in the order recorded, and its new tasks' mails: one INSERT
        each. As ORM objects they cost more CPU than all its other writes together."""
        events, self._held_events = self._held_events or [], None
        mails, self._held_mails = self._held_mails, []
        if events:
            db.session.execute(_INSERT_EVENTS, events)
        outbox.insert_fresh(mails)

    def _due(self, template: TaskTemplate) -> datetime:
        rule = template.deadline
        if rule.anchor == "received_at":
            start = self.case.reopened_at or self.case.received_at
        else:
            start = self.now
        if self._calendar is None and rule.working_days is not None:
            self._calendar = load_calendar()
        return compute_due(start, self._calendar, hours=rule.hours, working_days=rule.working_days)

    def _finish_open_tasks(self, transition: TransitionDef) -> None:
        for task in self.case.tasks:
            if task.status != "open":
                continue
            if task.kind in transition.completes:
                self.change(
                    task,
                    status="done",
                    completed_at=self.now,
                    completed_by_id=self.actor.id if self.actor else None,
                    outcome=f"by {transition.trigger}",
                )
                self.record(
                    "task_completed",
                    data={"task_id": task.id, "kind": task.kind, "by_trigger": transition.trigger},
                )
            elif transition.cancels_open_tasks:
                self.change(task, status="cancelled", completed_at=self.now)
                self.record(
                    "task_cancelled",
                    data={"task_id": task.id, "kind": task.kind, "by_trigger": transition.trigger},
                )

    def _hand_over(self, commune: OrgUnit) -> None:
        case = self.case
        old = case.residence_commune
        self.change(case, residence_commune=commune, residence_commune_id=commune.id)
        for task in case.tasks:  # the tasks' copy of the case's communes moves with it
            self.change(task, residence_commune_id=commune.id)
        # Open commune-held tasks of the plan side follow the child to the new commune.
        for task in case.tasks:
            template = self.definition.tasks.get(task.template)
            if (
                task.status == "open"
                and template
                and template.commune == "residence"
                and template.agency_kind != "from_measure"
            ):
                new_agency = agency_for(template.agency_kind, commune)
                self.record(
                    "task_rerouted",
                    data={"task_id": task.id, "from": task.agency.code, "to": new_agency.code},
                )
                self.change(task, agency=new_agency, agency_id=new_agency.id)
                outbox.queue_for_agency(
                    "task_created",
                    new_agency,
                    case=case,
                    task=task,
                    dedupe=f"task_created:{task.id}:{new_agency.code}",
                )
        self.values["from_commune"] = old.code

    def _notify(self, kind: str) -> None:
        case = self.case
        owner = access.owning_commune_id(self.definition, case)
        role = "chair" if kind == "plan_submitted" else "officer"
        users = outbox.commune_users(owner, role)
        if kind in ("case_handed_over", "case_closed"):
            users += outbox.commune_users(owner, "chair")
        for user in users:
            outbox.queue(
                kind,
                user.email,
                case=case,
                locale=user.locale or "vi",
                dedupe=f"{kind}:{case.id}:{case.version}:{user.email}",
            )

    def record(
        self,
        kind: str,
        *,
        from_state: str | None = None,
        to_state: str | None = None,
        data: dict | None = None,
    ) -> CaseEvent | None:
        """Add an event to the case's trail. Inside a transition it is held as a row for
        `write_held_rows` (None is returned); otherwise it is added to the session."""
        row = {
            "case_id": self.case.id,
            "at": self.now,
            "actor_id": self.actor.id if self.actor else None,
            "actor_label": self.actor_label,
            "kind": kind,
            "from_state": from_state,
            "to_state": to_state,
            "data": _jsonable(data or {}),
        }
        if self._held_events is not None:
            self._held_events.append(row)
            return None
        event = CaseEvent(**row)
        db.session.add(event)
        return event


_INSERT_EVENTS = insert(CaseEvent.__table__)  # built once, like _versioned_update's statements


@functools.cache
def _versioned_update(table: Table, version: str, columns: frozenset[str]) -> Update:
    """UPDATE of these columns of one row, on the condition that its version is the one loaded.

    Built once per set of columns (a transition changes the same few each time): building
    and keying the statement anew cost as much CPU as running it."""
    return (
        update(table)
        .where(table.c.id == bindparam("_id"), table.c[version] == bindparam("_loaded"))
        .values({name: bindparam(f"new_{name}", type_=table.c[name].type) for name in sorted(columns)})
    )


def _jsonable(data: dict) -> dict:
    out = {}
    for key, value in data.items():
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, OrgUnit | Agency):
            value = value.code
        out[key] = value
    return out


def _no_open_measures(case: Case) -> str | None:
    open_measures = [t for t in case.tasks if t.status == "open" and t.kind == "measure"]
    if open_measures:
        return f"{len(open_measures)} plan task(s) still open"
    return None


GUARDS = {"no_open_measures": _no_open_measures}


def parse_transition_values(
    transition: TransitionDef, data: object, now: datetime, case: Case | None = None
) -> dict[str, Any]:
    """The trigger's data, checked against the fields the definition declares."""
    fields = Fields(data if data is not None else {}, "data.")
    values: dict[str, Any] = {}
    for spec in transition.fields:
        values[spec.name] = _parse_field(fields, spec, now, values, case)
    fields.raise_if_any()
    return values


def _parse_field(fields: Fields, spec: FieldSpec, now: datetime, values: dict, case: Case | None) -> Any:
    if spec.type == "bool":
        value = fields.boolean(spec.name, required=spec.required)
    elif spec.type == "choice":
        value = fields.choice(spec.name, spec.choices, required=spec.required)
    elif spec.type == "choices":
        value = fields.choices(spec.name, spec.choices, required=spec.required)
    elif spec.type == "text":
        value = fields.string(spec.name, required=spec.required, max_length=10_000)
    elif spec.type == "string":
        value = fields.string(spec.name, required=spec.required, max_length=200)
    elif spec.type == "commune":
        from caseflow.services.intake import commune_by_code

        code = fields.string(spec.name, required=spec.required, max_length=20)
        value = commune_by_code(fields, spec.name, code) if code else None
    elif spec.type == "measures":
        value = _parse_measures(fields, spec, now, values, case)
    else:  # pragma: no cover - the loader refuses other types
        raise ValueError(spec.type)
    if spec.must_be is not None and value is not None and value != spec.must_be:
        fields.error(spec.name, f"must be {str(spec.must_be).lower()}")
    return value


def _measure_units(case: Case | None) -> set[int] | None:
    """Where a measure's agency may sit: the case's communes and the units above the child's home.

    A measure hands the child's identity to its agency, so a plan cannot assign work
    to a body outside the case's own jurisdiction (Decree 56 Art. 33).
    """
    if case is None:
        return None
    units = [case.residence_commune, case.incident_commune, *case.residence_commune.ancestors()]
    return {unit.id for unit in units}


def _agencies_by_code(codes: Iterable[object]) -> dict[str, Agency]:
    """The agencies a plan names, in one query (a plan may have up to MAX_MEASURES measures)."""
    wanted = {code for code in codes if isinstance(code, str)}
    if not wanted:
        return {}
    return {a.code: a for a in db.session.scalars(select(Agency).where(Agency.code.in_(wanted)))}


def _parse_measures(fields: Fields, spec: FieldSpec, now: datetime, values: dict, case: Case | None) -> Any:
    raw = fields.data.get(spec.name)
    allowed_units = _measure_units(case)
    if not isinstance(raw, list) or not raw:
        fields.error(spec.name, "must be a list of at least one measure")
        return None
    if len(raw) > MAX_MEASURES:
        fields.error(spec.name, f"at most {MAX_MEASURES} measures")
        return None
    as_json = []
    agencies = _agencies_by_code([item.get("agency") for item in raw if isinstance(item, dict)])
    for i, item in enumerate(raw):
        prefix = f"{spec.name}[{i}]."
        if not isinstance(item, dict):
            fields.error(f"{spec.name}[{i}]", "must be an object")
            continue
        code, desc, due_raw = item.get("agency"), item.get("description"), item.get("due_at")
        agency = agencies.get(code) if isinstance(code, str) else None
        if agency is None:
            fields.error(prefix + "agency", "is not a known agency code")
        elif allowed_units is not None and agency.org_unit_id not in allowed_units:
            fields.error(prefix + "agency", "is outside the case's communes and the units above them")
            agency = None
        if not isinstance(desc, str) or not desc.strip() or len(desc) > 2000:
            fields.error(prefix + "description", "is required (at most 2000 characters)")
        due = parse_moment(due_raw)
        if due is None:
            fields.error(prefix + "due_at", "must be an ISO 8601 date-time with a UTC offset")
        elif due <= now:
            fields.error(prefix + "due_at", "must be in the future")
        if agency and isinstance(desc, str) and due and due > now:
            as_json.append({"agency": agency.code, "description": desc.strip(), "due_at": due.isoformat()})
    values["_measures_json"] = as_json
    return as_json


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
        raise Invalid({"trigger": f"unknown trigger; one of: {', '.join(definition.transitions)}"})
    if user is not None and not access.may_fire(user, definition, case, trigger):
        raise Forbidden(f"Your role or commune may not {trigger} this case")
    if not isinstance(version, int) or isinstance(version, bool):
        raise Invalid({"version": "is required: the case version you last saw"})
    if version != case.version:
        raise Conflict(f"The case changed since you loaded it (version {case.version}, you sent {version})")
    if case.state not in transition.source:
        raise Conflict(f"{trigger} is not allowed while the case is {case.state}")
    run = TransitionRun(engine, case, user, {}, actor_label)
    run.values = parse_transition_values(transition, data, run.now, case)
    if transition.trigger == "handover":
        if run.values["residence_commune"].id == case.residence_commune_id:
            raise Invalid({"data.residence_commune": "is already the case's residence commune"})
    with case_write():
        try:
            moved = engine.fire(case.state, trigger, run)
        except MachineError as exc:
            raise Conflict(str(exc)) from exc
        if not moved:
            raise Conflict("; ".join(run.guard_failures) or f"{trigger} refused by a guard")
    return case


@contextmanager
def case_write() -> Iterator[None]:
    """Run a change and commit it; on any failure roll everything back.

    A lost optimistic-lock race (another request changed the case first) becomes a
    409 with nothing written. Autoflush can hit the race before the commit, so the
    whole block is guarded, not only the commit.
    """
    try:
        yield
        db.session.commit()
    except StaleDataError as exc:
        db.session.rollback()
        raise Conflict("Someone else changed the case at the same moment; reload and try again") from exc
    except OperationalError as exc:
        db.session.rollback()
        if "locked" in str(exc.orig):  # SQLite: the other writer held the file past the busy timeout
            raise Conflict("The case is being changed by someone else; try again") from exc
        raise
    except BaseException:
        db.session.rollback()
        raise
