"""Load a workflow file and check it before anything runs on it.

A mistake in the procedure file (an unknown state, a task for an agency kind that
does not exist, a state nothing leads to) must stop the app at start-up with the
line that is wrong, not surface months later as a stuck case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import JSON

from caseflow.models.cases import Case
from caseflow.models.orgs import AGENCY_KINDS
from caseflow.models.people import ROLES
from caseflow.models.types import EncryptedJSON
from caseflow.workflow import registry
from caseflow.workflow.errors import WorkflowError
from caseflow.workflow.ladder import EscalationRules, LadderError, parse_escalation
from caseflow.workflow.lists import Lists, load_lists

FIELD_TYPES = ("text", "string", "bool", "choice", "choices", "measures", "commune", "date", "task_ids")
# Where a trigger's field is kept (see FieldSpec.store): the default is `data`, so a field
# declared in the file alone is kept on the case and shown, never silently trail-only.
STORES = ("column", "data", "trail")
DEFAULT_STORE = "data"
# Columns of `cases` the procedure itself keeps: a field may not overwrite them.
RESERVED_COLUMNS = frozenset(
    {
        "id",
        "reference",
        "state",
        "version",
        "workflow_version",
        "incident_commune_id",
        "residence_commune_id",
        "created_by_id",
        "reported_by_agency_id",
        "created_at",
        "updated_at",
        "received_at",
        "state_entered_at",
        "closed_at",
        "reopened_at",
        "data",
    }
)
# Who a notification goes to (`recipients:`): `<scope>.<role>` for the users of that role in the
# case's owning, incident or residence commune or the district or province above the owner;
# or a group of agencies.
# `receiving_commune`: the commune a handover awaits the answer of.
RECIPIENT_SCOPES = (
    "owning_commune",
    "incident_commune",
    "residence_commune",
    "receiving_commune",
    "district",
    "province",
)
RECIPIENT_GROUPS = ("task_agencies", "reporting_agency")
OWNERS = ("incident", "residence")
# Who fires a transition, when not the commune owning the case: the commune asked to take it over.
ACTED_BY = ("owner", "receiving_commune")
# What a notification's text may name besides the case reference: the step the case is in.
MAIL_PLACEHOLDERS = {"ref": "X", "state": "Y"}


class _LineDict(dict):
    line: int = 0


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The safe loader, with libyaml's parser where PyYAML has it: the pure-Python one took over
    a second to read the workflow and form files, at the start of every worker and command."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    mapping = _LineDict(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


class _LineList(list):
    line: int = 0
    item_lines: tuple[int, ...] = ()


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> _LineList:
    sequence = _LineList(loader.construct_sequence(node, deep=True))
    sequence.line = node.start_mark.line + 1
    sequence.item_lines = tuple(item.start_mark.line + 1 for item in node.value)
    return sequence


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
STATE_LISTS = ("tasks",)
TRANSITION_LISTS = ("roles", "guards", "effects", "notify", "completes", "creates")


def _check_shapes(path: str, raw: dict) -> None:
    """Every part has the type the loader reads: `roles: chair` is not `roles: [chair]`, and a
    wrong type is a WorkflowError naming the line, not a crash or "unknown role 'c'"."""

    def need(value: Any, kind: type, line: int, what: str) -> None:
        if not isinstance(value, kind):
            shape = "a list" if kind is list else "a mapping"
            raise WorkflowError(f"{path}:{line}: {what} must be {shape}")

    need(raw.get("tasks") or {}, dict, raw.line, "tasks")
    need(raw.get("escalation") or {}, dict, raw.line, "escalation")
    for section, keys in (("states", STATE_LISTS), ("transitions", TRANSITION_LISTS)):
        items = raw.get(section) or []
        need(items, list, raw.line, section)
        for i, node in enumerate(items):
            need(node, dict, items.item_lines[i] if isinstance(items, _LineList) else 0, f"each of {section}")
            for key in keys:
                need(node.get(key) or [], list, node.line, key)
            if section == "transitions":
                if node.get("source") != "open":
                    need(node.get("source") or [], list, node.line, "source (or the word open)")
                need(node.get("fields") or {}, dict, node.line, "fields")
                for spawn in node.get("creates") or []:
                    need(spawn, dict, node.line, "each of creates")


@dataclass(frozen=True)
class DeadlineRule:
    """`hours` on the wall clock, `working_days` on the calendar, or a date set by the plan."""

    hours: int | None = None
    working_days: int | None = None
    anchor: str = "entered"  # received_at | entered | measure | decision

    @property
    def wall_clock(self) -> bool:
        """On the hours ladder: an hours rule, or a moment a decision fixed (a separation ends at
        its date whatever the office hours: it is warned and escalated at once, like an emergency)."""
        return self.hours is not None or self.anchor == "decision"

    def describe(self) -> str:
        """The rule as a task keeps it (tasks.rule, the API's `rule`); `parse` reads it back."""
        if self.anchor == "measure":
            return "date set in the plan"
        if self.anchor == "decision":
            return "date set in the decision"
        if self.hours is not None:
            return f"hours: {self.hours} from {self.anchor}"
        return f"working_days: {self.working_days} from {self.anchor}"

    @classmethod
    def parse(cls, text: str | None) -> DeadlineRule:
        """The rule a task keeps as text (`describe`), as a value; a plan date otherwise."""
        unit, _, rest = (text or "").partition(": ")
        number, _, anchor = rest.partition(" from ")
        if unit in ("hours", "working_days") and number.isdigit() and anchor:
            return cls(**{unit: int(number)}, anchor=anchor)
        return cls(anchor="measure")


@dataclass(frozen=True)
class TaskTemplate:
    id: str
    kind: str
    label: dict[str, str]
    agency_kind: str  # an agency kind, or "from_measure"
    commune: str  # incident | residence
    deadline: DeadlineRule
    basis: str
    # "trigger": only the step that owns the task finishes it (verify, approve_plan...), never
    # "mark as done"; "task": the assigned agency completes it.
    completed_by: str = "task"
    role: str | None = None  # only users of this role complete or decide it (e.g. chair)


@dataclass(frozen=True)
class FieldSpec:
    """One input of a trigger, and where its value is kept.

    `store`: `column` writes the case column `column` (default: the field's own name), under
    `key` when that column is a JSON map; `data` keeps it in the case's JSON `data` map under
    the field's name (no migration for a new field); `trail` only in the transition's event.
    """

    name: str
    type: str
    required: bool = False
    choices: tuple[str, ...] = ()
    must_be: Any = None
    store: str = DEFAULT_STORE
    column: str | None = None
    key: str | None = None
    label: dict[str, str] = field(default_factory=dict)
    choice_list: str | None = None  # the `choice_lists` entry its choices and their labels come from


@dataclass(frozen=True)
class TaskSpawn:
    task: str
    when_any: tuple[str, ...] = ()
    for_each: str | None = None
    once: bool = False  # not again while the case already has this task since it was (re)opened


@dataclass(frozen=True)
class IntakeDef:
    """What the report itself may say at intake, and the tasks it opens at once (Art. 26.3, 31)."""

    fields: tuple[FieldSpec, ...] = ()
    creates: tuple[TaskSpawn, ...] = ()


@dataclass(frozen=True)
class NotificationDef:
    """A mail a transition sends (`notify: [kind]`): to whom, and what it says per locale.
    `subject` and `message` may use {ref}, the case reference; never anything identifying."""

    kind: str
    recipients: tuple[str, ...]
    subject: dict[str, str]
    message: dict[str, str]


@dataclass(frozen=True)
class StateDef:
    name: str
    label: dict[str, str]
    owner: str
    terminal: bool
    tasks: tuple[str, ...]


@dataclass(frozen=True)
class TransitionDef:
    trigger: str
    label: dict[str, str]
    source: tuple[str, ...]
    dest: str | None  # None: the state does not change (an internal transition)
    roles: tuple[str, ...]
    fields: tuple[FieldSpec, ...] = ()
    completes: tuple[str, ...] = ()
    creates: tuple[TaskSpawn, ...] = ()
    guards: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    notify: tuple[str, ...] = ()
    cancels_open_tasks: bool = False
    closes_with: str | None = None
    acted_by: str = "owner"


@dataclass
class WorkflowDefinition:
    name: str
    version: str
    path: str
    states: dict[str, StateDef]
    transitions: dict[str, TransitionDef]
    tasks: dict[str, TaskTemplate]
    escalation: EscalationRules = field(default_factory=EscalationRules)
    notifications: dict[str, NotificationDef] = field(default_factory=dict)
    intake: IntakeDef = field(default_factory=IntakeDef)
    lists: Lists = field(default_factory=Lists)  # choice lists and report settings (workflow/lists.py)
    # Old names of states and task templates and what the file calls them now (`renamed:`), so
    # cases and tasks stored under an old name can be moved (flask caseflow check-workflow).
    renamed: dict[str, str] = field(default_factory=dict)

    @property
    def initial(self) -> str:
        return next(iter(self.states))

    def open_states(self) -> list[str]:
        return [s.name for s in self.states.values() if not s.terminal]

    def to_json(self, locale: str = "vi") -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "initial": self.initial,
            "states": [
                {
                    "name": s.name,
                    "label": s.label.get(locale, s.name),
                    "labels": s.label,
                    "terminal": s.terminal,
                    "owner": s.owner,
                }
                for s in self.states.values()
            ],
            "transitions": [
                {
                    "trigger": t.trigger,
                    "label": t.label.get(locale, t.trigger),
                    "source": list(t.source),
                    "dest": t.dest,
                    "roles": list(t.roles),
                    "fields": [
                        {
                            "name": f.name,
                            "type": f.type,
                            "required": f.required,
                            **({"choices": list(f.choices)} if f.choices else {}),
                            **({"choice_list": f.choice_list} if f.choice_list else {}),
                            **({"labels": dict(f.label)} if f.label else {}),
                        }
                        for f in t.fields
                    ],
                }
                for t in self.transitions.values()
            ],
            # The choice lists (codes and vi/en labels) that forms and integrations bind to.
            "choice_lists": {name: choices.to_json() for name, choices in self.lists.lists.items()},
            "tasks": [
                {
                    "id": t.id,
                    "kind": t.kind,
                    "agency_kind": t.agency_kind,
                    "deadline": t.deadline.describe(),
                    "basis": t.basis,
                    "completed_by": t.completed_by,
                    "role": t.role,
                }
                for t in self.tasks.values()
            ],
        }


def _fail(path: str, node: Any, message: str) -> WorkflowError:
    line = getattr(node, "line", 0)
    return WorkflowError(f"{path}:{line}: {message}")


def _label(raw: Any, default: str) -> dict[str, str]:
    if isinstance(raw, dict):
        return {"vi": str(raw.get("vi", default)), "en": str(raw.get("en", default))}
    return {"vi": str(raw or default), "en": str(raw or default)}


def _deadline(path: str, node: Any) -> DeadlineRule:
    if not isinstance(node, dict):
        raise _fail(path, node, "deadline must be a mapping")
    anchor = node.get("from", "entered")
    if anchor not in ("received_at", "entered", "measure", "decision"):
        raise _fail(
            path, node, f"deadline 'from' must be received_at, entered, measure or decision, not {anchor!r}"
        )
    if anchor in ("measure", "decision"):
        return DeadlineRule(anchor=anchor)
    hours, days = node.get("hours"), node.get("working_days")
    if (hours is None) == (days is None):
        raise _fail(path, node, "deadline needs exactly one of 'hours' or 'working_days'")
    value = hours if hours is not None else days
    if not isinstance(value, int) or value < 0:
        raise _fail(path, node, "deadline length must be a whole number >= 0")
    return DeadlineRule(hours=hours, working_days=days, anchor=anchor)


def _task(path: str, task_id: str, node: Any) -> TaskTemplate:
    if not isinstance(node, dict):
        raise _fail(path, node, f"task {task_id!r} must be a mapping")
    kind = node.get("agency_kind")
    if kind != "from_measure" and kind not in AGENCY_KINDS:
        raise _fail(path, node, f"task {task_id!r}: unknown agency kind {kind!r}")
    commune = node.get("commune", "residence")
    if commune not in OWNERS:
        raise _fail(path, node, f"task {task_id!r}: commune must be incident or residence")
    if "deadline" not in node:
        raise _fail(path, node, f"task {task_id!r} has no deadline")
    completed_by = node.get("completed_by", "task")
    if completed_by not in ("task", "trigger"):
        raise _fail(path, node, f"task {task_id!r}: completed_by must be task or trigger")
    role = node.get("role")
    if role is not None and role not in ROLES:
        raise _fail(path, node, f"task {task_id!r}: unknown role {role!r}")
    return TaskTemplate(
        id=task_id,
        kind=str(node.get("kind", task_id)),
        label=_label(node.get("label"), task_id),
        agency_kind=kind,
        commune=commune,
        deadline=_deadline(path, node["deadline"]),
        basis=str(node.get("basis", "")),
        completed_by=completed_by,
        role=role,
    )


def _field_labels(path: str, raw: Any) -> dict[str, dict[str, str]]:
    """`field_labels:`: what each field reads as, by name, in vi and en."""
    if not isinstance(raw, dict):
        raise _fail(path, raw, "field_labels must be a mapping of field name to {vi, en}")
    labels = {}
    for name, label in raw.items():
        if not isinstance(label, dict) or not all(
            isinstance(label.get(k), str) and label[k] for k in ("vi", "en")
        ):
            raise _fail(path, raw, f"field_labels: {name!r} needs a vi and an en text")
        labels[str(name)] = {"vi": label["vi"], "en": label["en"]}
    return labels


def _fields(path: str, node: Any, labels: dict[str, dict[str, str]]) -> tuple[FieldSpec, ...]:
    specs = []
    for name, spec in (node or {}).items():
        if not isinstance(spec, dict) or spec.get("type") not in FIELD_TYPES:
            raise _fail(path, node, f"field {name!r}: type must be one of {', '.join(FIELD_TYPES)}")
        store = spec.get("store", DEFAULT_STORE)
        if store not in STORES:
            raise _fail(
                path, spec, f"field {name!r}: store must be one of {', '.join(STORES)}, not {store!r}"
            )
        column, key = spec.get("column"), spec.get("key")
        if store != "column" and (column is not None or key is not None):
            raise _fail(path, spec, f"field {name!r}: column and key go with store: column")
        if store == "column":
            column = str(column or name)
            _check_column(path, spec, name, column, key)
            if spec["type"] == "commune":
                raise _fail(
                    path, spec, f"field {name!r}: a commune is kept by an effect or in data, not a column"
                )
        specs.append(
            FieldSpec(
                name=name,
                type=spec["type"],
                required=bool(spec.get("required", False)),
                choices=tuple(spec.get("choices", ())),
                must_be=spec.get("must_be"),
                store=store,
                column=column,
                key=str(key) if key is not None else None,
                label=_label(spec.get("label"), name) if "label" in spec else dict(labels.get(name, {})),
                choice_list=str(spec["list"]) if spec.get("list") else None,
            )
        )
    return tuple(specs)


def _check_column(path: str, node: Any, name: str, column: str, key: Any) -> None:
    """`store: column` must name a column of `cases` that the procedure does not keep itself."""
    columns = Case.__table__.c
    if column not in columns:
        raise _fail(path, node, f"field {name!r}: store: column, but cases has no column {column!r}")
    if column in RESERVED_COLUMNS:
        raise _fail(path, node, f"field {name!r}: column {column!r} is kept by the procedure itself")
    # A JSON column (encrypted or not) holds a map of keyed values, or a whole list (a `choices`
    # field, e.g. services).
    is_map = isinstance(columns[column].type, JSON | EncryptedJSON) and node.get("type") != "choices"
    if key is not None and not is_map:
        raise _fail(path, node, f"field {name!r}: key needs a JSON column, and {column!r} is not one")
    if key is None and is_map:
        raise _fail(
            path, node, f"field {name!r}: column {column!r} is a JSON map: give the key to keep it under"
        )


def _check_names(path: str, node: Any, trigger: str, what: str, table: dict) -> None:
    """Each guard or effect the file names must be registered (caseflow.workflow.registry)."""
    items = node.get(f"{what}s") or []
    lines = getattr(items, "item_lines", ())
    for i, name in enumerate(items):
        if name not in table:
            line = lines[i] if i < len(lines) else getattr(node, "line", 0)
            known = ", ".join(sorted(table)) or "none registered"
            raise WorkflowError(
                f"{path}:{line}: trigger {trigger!r}: unknown {what} {name!r} (known: {known})"
            )


def _notifications(path: str, raw: Any) -> dict[str, NotificationDef]:
    if not isinstance(raw, dict):
        raise _fail(path, raw, "notifications must be a mapping of kind to its recipients and text")
    found = {}
    for kind, node in raw.items():
        if not isinstance(node, dict):
            raise _fail(path, raw, f"notification {kind!r} must be a mapping")
        recipients = node.get("recipients")
        if not isinstance(recipients, list) or not recipients:
            raise _fail(path, node, f"notification {kind!r}: recipients must be a non-empty list")
        lines = getattr(recipients, "item_lines", ())
        for i, spec in enumerate(recipients):
            scope, _, role = str(spec).partition(".")
            valid = spec in RECIPIENT_GROUPS or (scope in RECIPIENT_SCOPES and role in ROLES)
            if not valid:
                line = lines[i] if i < len(lines) else node.line
                raise WorkflowError(
                    f"{path}:{line}: notification {kind!r}: unknown recipient {spec!r} (one of "
                    f"{', '.join(RECIPIENT_GROUPS)}, or <{'|'.join(RECIPIENT_SCOPES)}>.<role>)"
                )
        texts = {}
        for key in ("subject", "message"):
            label = node.get(key)
            if not isinstance(label, dict) or not label.get("vi") or not label.get("en"):
                raise _fail(path, node, f"notification {kind!r}: {key} needs a vi and an en text")
            for text in label.values():
                try:
                    str(text).format(**MAIL_PLACEHOLDERS)
                except (KeyError, IndexError, ValueError) as exc:
                    raise _fail(
                        path,
                        label,
                        f"notification {kind!r}: {key} may use only {{ref}} and {{state}} ({exc})",
                    ) from exc
            texts[key] = {"vi": str(label["vi"]), "en": str(label["en"])}
        found[kind] = NotificationDef(
            kind, tuple(str(r) for r in recipients), texts["subject"], texts["message"]
        )
    return found


def load_definition(path: str | Path) -> WorkflowDefinition:
    """Parse and validate a workflow file; raise WorkflowError naming the line on any fault."""
    path = str(path)
    try:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.load(fh, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except OSError as exc:
        raise WorkflowError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise WorkflowError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise WorkflowError(f"{path}: the top level must be a mapping")
    _check_shapes(path, raw)
    lists = load_lists(path, raw)

    field_labels = _field_labels(path, raw.get("field_labels") or {})
    tasks = {tid: _task(path, tid, node) for tid, node in (raw.get("tasks") or {}).items()}
    notifications = _notifications(path, raw.get("notifications") or {})

    states: dict[str, StateDef] = {}
    state_lines: dict[str, int] = {}
    for node in raw.get("states") or []:
        name = node.get("name")
        if not name or name in states:
            raise _fail(path, node, f"state name missing or repeated: {name!r}")
        owner = node.get("owner", "residence")
        if owner not in OWNERS:
            raise _fail(path, node, f"state {name!r}: owner must be incident or residence")
        for tid in node.get("tasks", []):
            if tid not in tasks:
                raise _fail(path, node, f"state {name!r}: unknown task {tid!r}")
            if tasks[tid].agency_kind == "from_measure":
                raise _fail(path, node, f"state {name!r}: task {tid!r} takes its agency from a plan measure")
        state_lines[name] = getattr(node, "line", 0)
        states[name] = StateDef(
            name=name,
            label=_label(node.get("label"), name),
            owner=owner,
            terminal=bool(node.get("terminal", False)),
            tasks=tuple(node.get("tasks", [])),
        )
    if not states:
        raise WorkflowError(f"{path}: no states")
    open_states = [s for s, d in states.items() if not d.terminal]

    transitions: dict[str, TransitionDef] = {}
    for node in raw.get("transitions") or []:
        trigger = node.get("trigger")
        if not trigger or trigger in transitions:
            raise _fail(path, node, f"trigger missing or repeated: {trigger!r}")
        source = node.get("source")
        source = open_states if source == "open" else list(source or [])
        for s in source:
            if s not in states:
                raise _fail(path, node, f"trigger {trigger!r}: unknown source state {s!r}")
        dest = node.get("dest")
        if dest == "same":
            dest = None
        elif dest not in states:
            raise _fail(path, node, f"trigger {trigger!r}: unknown dest state {dest!r}")
        roles = tuple(node.get("roles", []))
        for role in roles:
            if role not in ROLES:
                raise _fail(path, node, f"trigger {trigger!r}: unknown role {role!r}")
        _check_names(path, node, trigger, "guard", registry.GUARDS)
        _check_names(path, node, trigger, "effect", registry.EFFECTS)
        acted_by = node.get("acted_by", "owner")
        if acted_by not in ACTED_BY:
            raise _fail(path, node, f"trigger {trigger!r}: acted_by must be one of {', '.join(ACTED_BY)}")
        for kind in node.get("notify", []):
            if kind not in notifications:
                raise _fail(
                    path, node, f"trigger {trigger!r}: notification {kind!r} is not under notifications:"
                )
        task_kinds = {t.kind for t in tasks.values()}
        for kind in node.get("completes", []):
            if kind not in task_kinds:
                raise _fail(path, node, f"trigger {trigger!r}: completes unknown task kind {kind!r}")
        fields = _fields(path, node.get("fields"), field_labels)
        field_names = {f.name for f in fields}
        creates = _creates(path, f"trigger {trigger!r}", node.get("creates", []), tasks, field_names)
        closes_with = node.get("closes_with")
        if closes_with and closes_with not in field_names:
            raise _fail(path, node, f"trigger {trigger!r}: closes_with names no field")
        transitions[trigger] = TransitionDef(
            trigger=trigger,
            label=_label(node.get("label"), trigger),
            source=tuple(source),
            dest=dest,
            roles=roles,
            fields=fields,
            completes=tuple(node.get("completes", [])),
            creates=tuple(creates),
            guards=tuple(node.get("guards", [])),
            effects=tuple(node.get("effects", [])),
            notify=tuple(node.get("notify", [])),
            cancels_open_tasks=bool(node.get("cancels_open_tasks", False)),
            closes_with=closes_with,
            acted_by=acted_by,
        )

    renamed = _renamed(path, raw.get("renamed") or {}, states, tasks)
    _check_plan_kept(path, raw, transitions)
    _check_reachable(path, states, transitions, state_lines)
    intake_node = raw.get("intake") or {}
    if not isinstance(intake_node, dict):
        raise _fail(path, raw, "intake must be a mapping")
    intake_fields = _fields(path, intake_node.get("fields"), field_labels)
    asked = {f.name for f in intake_fields} | {f.name for t in transitions.values() for f in t.fields}
    unknown = sorted(set(field_labels) - asked)
    if unknown:  # a misspelt name would leave the real field unlabelled
        raise _fail(path, raw.get("field_labels"), f"field_labels: no trigger has a field {unknown[0]!r}")
    intake = IntakeDef(
        fields=intake_fields,
        creates=tuple(
            _creates(path, "intake", intake_node.get("creates") or [], tasks, {f.name for f in intake_fields})
        ),
    )
    try:
        escalation = parse_escalation(raw.get("escalation"), raw.line)
    except LadderError as exc:
        raise WorkflowError(f"{path}:{exc.line}: {exc}") from None
    return WorkflowDefinition(
        name=str(raw.get("name", Path(path).stem)),
        version=str(raw.get("version", "1")),
        path=path,
        states=states,
        transitions=transitions,
        tasks=tasks,
        notifications=notifications,
        intake=intake,
        escalation=escalation,
        lists=lists,
        renamed=renamed,
    )


def _creates(path: str, where: str, nodes: Any, tasks: dict, field_names: set[str]) -> list[TaskSpawn]:
    if not isinstance(nodes, list):
        raise _fail(path, nodes, f"{where}: creates must be a list")
    creates = []
    for spawn in nodes:
        if not isinstance(spawn, dict):
            raise _fail(path, nodes, f"{where}: each of creates must be a mapping")
        if spawn.get("task") not in tasks:
            raise _fail(path, spawn, f"{where}: unknown task {spawn.get('task')!r}")
        if spawn.get("for_each") not in (None, "measures"):
            raise _fail(path, spawn, f"{where}: for_each can only be measures")
        if (spawn.get("for_each") == "measures") != (tasks[spawn["task"]].agency_kind == "from_measure"):
            raise _fail(path, spawn, f"{where}: for_each: measures goes with agency_kind from_measure")
        for flag in spawn.get("when_any", []):
            if flag not in field_names:
                raise _fail(path, spawn, f"{where}: when_any names no field {flag!r}")
        creates.append(
            TaskSpawn(
                spawn["task"],
                tuple(spawn.get("when_any", [])),
                spawn.get("for_each"),
                bool(spawn.get("once", False)),
            )
        )
    return creates


def _renamed(path: str, raw: Any, states: dict, tasks: dict) -> dict[str, str]:
    """`renamed: {old: new}`: each new name a state or task template of this file, no old one."""
    if not isinstance(raw, dict):
        raise _fail(path, raw, "renamed must be a mapping of old name to new name")
    for old, new in raw.items():
        if new not in states and new not in tasks:
            raise _fail(
                path, raw, f"renamed: {old!r} -> {new!r}, but {new!r} is no state or task of this file"
            )
        if old in states or old in tasks:
            raise _fail(path, raw, f"renamed: {old!r} is still a state or task of this file")
    return {str(old): str(new) for old, new in raw.items()}


def _check_plan_kept(path: str, raw: dict, transitions: dict[str, TransitionDef]) -> None:
    """`for_each: measures` reads the plan's measures back from the case: some trigger must keep them."""
    kept = any(f.type == "measures" and f.store != "trail" for t in transitions.values() for f in t.fields)
    for node in raw.get("transitions") or []:
        for spawn in node.get("creates") or []:
            if spawn.get("for_each") == "measures" and not kept:
                raise _fail(
                    path, spawn, "for_each: measures, but no trigger keeps a measures field on the case"
                )


def _check_reachable(path: str, states: dict, transitions: dict, lines: dict) -> None:
    initial = next(iter(states))
    seen, frontier = {initial}, [initial]
    while frontier:
        current = frontier.pop()
        for t in transitions.values():
            if current in t.source and t.dest and t.dest not in seen:
                seen.add(t.dest)
                frontier.append(t.dest)
    for name in states:
        if name not in seen:
            raise WorkflowError(f"{path}:{lines.get(name, 0)}: state {name!r} is unreachable")
