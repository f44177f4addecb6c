"""Load the annex forms (Mẫu 01-07, the needs-meeting minutes) the workflow file names, and check them.

The forms are data like the states: a province adds a field in its variant's files, and the
pages, the API, the validation and the printed documents follow without a code change or a
migration (a form's values are kept as JSON). A mistake stops the app at start-up with the
file and line that is wrong, as in `definition.py`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from caseflow.resources import resource_dir
from caseflow.workflow.definition import WorkflowDefinition, WorkflowError, _Loader

FIELD_TYPES = ("text", "date", "datetime", "bool", "choice", "choices", "number", "person", "rows")
ROW_FIELD_TYPES = ("text", "date", "datetime", "bool", "choice", "number")
# The parts a `person` field may have, and the type of each.
PERSON_PARTS = {
    "name": "text",
    "birth_date": "date",
    "age": "number",
    "sex": "choice",
    "ethnicity": "text",
    "job": "text",
    "address": "text",
    "phone": "text",
    "relation": "text",
    "school": "text",
}
SEX_VALUES = ("female", "male", "unknown")
DEFAULT_PERSON_PARTS = ("name", "age", "job")
ISSUERS = ("incident", "residence")
DEFAULT_WRITERS = ("officer", "chair")
KINDS = ("record", "decision")
# The assessment's conclusion is the one thing of the case a form decides (its risk level):
# every other case column is the procedure's own, changed by triggers.
CASE_COLUMNS_SET_BY_FORMS = ("risk_level",)
# Where a form field's value may come from when a trigger or the intake records the form.
TRIGGER_SOURCES = ("case",)
INTAKE_SOURCES = ("case", "child", "informant")
# Where the shipped workflow file and its forms folder are (source tree or installed package).
SHIPPED_WORKFLOWS = resource_dir("workflows")


@dataclass(frozen=True)
class Option:
    value: str
    label: dict[str, str]


@dataclass(frozen=True)
class FormField:
    name: str
    type: str
    label: dict[str, str]
    required: bool = False
    identity: bool = False
    options: tuple[Option, ...] = ()
    parts: tuple[str, ...] = ()
    fields: tuple[FormField, ...] = ()  # the columns of a `rows` field
    default: Any = None  # "today" / "now" for dates, or a literal

    def option_label(self, value: Any, locale: str) -> str:
        for option in self.options:
            if option.value == value:
                return option.label.get(locale, option.value)
        return "" if value is None else str(value)

    def to_json(self) -> dict:
        body: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "label": dict(self.label),
            "identity": self.identity,
        }
        if self.options:
            body["options"] = [{"value": o.value, "label": dict(o.label)} for o in self.options]
        if self.parts:
            body["parts"] = list(self.parts)
        if self.fields:
            body["fields"] = [f.to_json() for f in self.fields]
        return body


@dataclass(frozen=True)
class RiskGrid:
    """Criteria graded on the levels of `result` (listed from lowest to highest)."""

    fields: tuple[str, ...]
    result: str
    sets_case: str | None


@dataclass(frozen=True)
class FormDef:
    code: str
    title: dict[str, str]
    short: dict[str, str]
    kind: str
    issuer: str
    fields: tuple[FormField, ...]
    number_field: str | None = None
    date_field: str | None = None
    signer: dict[str, str] = field(default_factory=dict)
    signer_field: str | None = None
    risk_grid: RiskGrid | None = None
    requires_when: tuple[tuple[str, tuple[str, ...]], ...] = ()
    states: tuple[str, ...] = ()  # the steps of the procedure at which this form is written
    roles: tuple[str, ...] = DEFAULT_WRITERS  # who writes it (a decision: only the chair)

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def identity_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.identity)

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "title": dict(self.title),
            "short": dict(self.short),
            "kind": self.kind,
            "fields": [f.to_json() for f in self.fields],
        }


@dataclass(frozen=True)
class RecordSpec:
    """A trigger (or the intake) that records a form: (form field or field.part, source path)."""

    form: str
    fields: tuple[tuple[str, str], ...]


@dataclass
class FormCatalog:
    forms: dict[str, FormDef]
    by_trigger: dict[str, RecordSpec]
    intake: RecordSpec | None

    def to_json(self) -> dict:
        return {"items": [f.to_json() for f in self.forms.values()]}


def _line(node: Any) -> int:
    return getattr(node, "line", 0)


def _fail(path: str, node: Any, message: str) -> WorkflowError:
    return WorkflowError(f"{path}:{_line(node)}: {message}")


def _read(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except OSError as exc:
        raise WorkflowError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise WorkflowError(f"{path}: not valid YAML: {exc}") from exc


def _label(path: str, node: Any, raw: Any, what: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) and raw.get(k) for k in ("vi", "en")):
        raise _fail(path, node, f"{what} needs a label with vi and en texts")
    return {"vi": raw["vi"], "en": raw["en"]}


def _options(path: str, node: Any, raw: Any, lists: dict[str, Any], name: str) -> tuple[Option, ...]:
    source = raw.get("options")
    if "options_from" in raw or "list" in raw:  # a list of the workflow file's choice_lists
        listed = raw.get("options_from", raw.get("list"))
        if listed not in lists:
            raise _fail(path, node, f"field {name!r}: options_from names no choice list {listed!r}")
        source = lists[listed]
    if isinstance(source, dict):  # a choice list written as value: label
        source = [{"value": k, "label": v} for k, v in source.items()]
    if not isinstance(source, list) or not source:
        raise _fail(path, node, f"field {name!r}: a choice needs options (or options_from)")
    options = []
    for item in source:
        if not isinstance(item, dict) or not isinstance(item.get("value", item.get("code")), str):
            raise _fail(path, node, f"field {name!r}: each option needs a value and a vi/en label")
        options.append(
            Option(str(item.get("value", item.get("code"))), _label(path, node, item.get("label"), name))
        )
    values = [o.value for o in options]
    if len(set(values)) != len(values):
        raise _fail(path, node, f"field {name!r}: an option value is repeated")
    return tuple(options)


def _field(path: str, node: Any, lists: dict[str, Any], *, in_rows: bool = False) -> FormField:
    if not isinstance(node, dict):
        raise _fail(path, node, "each field must be a mapping")
    name = node.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        raise _fail(path, node, f"field name missing or not a plain name: {name!r}")
    kind = node.get("type")
    allowed = ROW_FIELD_TYPES if in_rows else FIELD_TYPES
    if kind not in allowed:
        raise _fail(path, node, f"field {name!r}: type must be one of {', '.join(allowed)}")
    options: tuple[Option, ...] = ()
    parts: tuple[str, ...] = ()
    columns: tuple[FormField, ...] = ()
    if kind in ("choice", "choices"):  # one option, or several
        options = _options(path, node, node, lists, name)
    if kind == "person":
        parts = tuple(node.get("parts") or DEFAULT_PERSON_PARTS)
        unknown = [p for p in parts if p not in PERSON_PARTS]
        if unknown:
            raise _fail(path, node, f"field {name!r}: unknown person part {unknown[0]!r}")
    if kind == "rows":
        raw_columns = node.get("fields")
        if not isinstance(raw_columns, list) or not raw_columns:
            raise _fail(path, node, f"field {name!r}: rows need their own fields")
        columns = tuple(_field(path, c, lists, in_rows=True) for c in raw_columns)
        _no_repeats(path, node, [c.name for c in columns])
    default = node.get("default")
    if default in ("today", "now") and kind != ("date" if default == "today" else "datetime"):
        raise _fail(
            path,
            node,
            f"field {name!r}: default {default} needs type {'date' if default == 'today' else 'datetime'}",
        )
    if default is not None and default not in ("today", "now") and kind != "text":
        raise _fail(path, node, f"field {name!r}: only a text field has a literal default")
    return FormField(
        name=name,
        type=kind,
        label=_label(path, node, node.get("label"), f"field {name!r}"),
        required=bool(node.get("required", False)),
        identity=bool(node.get("identity", False)),
        options=options,
        parts=parts,
        fields=columns,
        default=default,
    )


def _no_repeats(path: str, node: Any, names: list[str]) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise _fail(path, node, f"field {name!r} is declared twice")
        seen.add(name)


def _form(path: str, raw: Any, lists: dict[str, Any]) -> FormDef:
    code = raw.get("code")
    if not isinstance(code, str) or not code.isidentifier():
        raise _fail(path, raw, f"form code missing or not a plain name: {code!r}")
    raw_fields = raw.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise _fail(path, raw, f"form {code!r} has no fields")
    fields = tuple(_field(path, node, lists) for node in raw_fields)
    _no_repeats(path, raw, [f.name for f in fields])
    by_name = {f.name: f for f in fields}
    kind = raw.get("kind", "record")
    if kind not in KINDS:
        raise _fail(path, raw, f"form {code!r}: kind must be one of {', '.join(KINDS)}")
    issuer = raw.get("issuer", "residence")
    if issuer not in ISSUERS:
        raise _fail(path, raw, f"form {code!r}: issuer must be incident or residence")
    for key, types in (
        ("number_field", ("text",)),
        ("date_field", ("date", "datetime")),
        ("signer_field", ("text",)),
    ):
        name = raw.get(key)
        if name is not None and (name not in by_name or by_name[name].type not in types):
            raise _fail(path, raw, f"form {code!r}: {key} must name a {' or '.join(types)} field")
    grid = None
    if raw.get("risk_grid") is not None:
        grid = _grid(path, raw["risk_grid"], code, by_name)
    roles = tuple(raw.get("roles") or DEFAULT_WRITERS)
    if any(role not in DEFAULT_WRITERS for role in roles):
        raise _fail(path, raw, f"form {code!r}: roles can only be {', '.join(DEFAULT_WRITERS)}")
    requires_when = []
    for flag, needed in (raw.get("requires_when") or {}).items():
        if flag not in by_name or by_name[flag].type != "bool":
            raise _fail(
                path, raw, f"form {code!r}: requires_when must be keyed by a bool field, not {flag!r}"
            )
        if not isinstance(needed, list) or any(n not in by_name for n in needed):
            raise _fail(path, raw, f"form {code!r}: requires_when {flag!r} must list fields of the form")
        requires_when.append((flag, tuple(needed)))
    return FormDef(
        code=code,
        title=_label(path, raw, raw.get("title"), f"form {code!r}"),
        short=_label(path, raw, raw.get("short") or raw.get("title"), f"form {code!r} short"),
        kind=kind,
        issuer=issuer,
        fields=fields,
        number_field=raw.get("number_field"),
        date_field=raw.get("date_field"),
        signer=_label(path, raw, raw["signer"], f"form {code!r} signer") if raw.get("signer") else {},
        signer_field=raw.get("signer_field"),
        risk_grid=grid,
        requires_when=tuple(requires_when),
        states=tuple(raw.get("states") or ()),
        roles=roles,
    )


def _grid(path: str, node: Any, code: str, by_name: dict[str, FormField]) -> RiskGrid:
    if not isinstance(node, dict) or not isinstance(node.get("fields"), list) or not node["fields"]:
        raise _fail(path, node, f"form {code!r}: risk_grid needs fields")
    result = by_name.get(node.get("result"))
    if result is None or result.type != "choice":
        raise _fail(path, node, f"form {code!r}: risk_grid result must name a choice field")
    levels = [o.value for o in result.options]
    for name in node["fields"]:
        criterion = by_name.get(name)
        if criterion is None or criterion.type != "choice" or [o.value for o in criterion.options] != levels:
            raise _fail(
                path, node, f"form {code!r}: grid field {name!r} must be a choice over {', '.join(levels)}"
            )
    sets_case = node.get("sets_case")
    if sets_case is not None and sets_case not in CASE_COLUMNS_SET_BY_FORMS:
        raise _fail(
            path, node, f"form {code!r}: sets_case can only be {', '.join(CASE_COLUMNS_SET_BY_FORMS)}"
        )
    return RiskGrid(tuple(node["fields"]), result.name, sets_case)


def _add_fields(path: str, raw: Any, base: FormDef, lists: dict[str, Any]) -> FormDef:
    """A variant's file adds fields to a form declared before it."""
    raw_fields = raw.get("add_fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise _fail(path, raw, f"form {base.code!r}: add_fields must list fields")
    added = tuple(_field(path, node, lists) for node in raw_fields)
    _no_repeats(path, raw, [f.name for f in (*base.fields, *added)])
    return FormDef(**{**base.__dict__, "fields": (*base.fields, *added)})


def _form_files(path: str, raw: Any) -> list[Path]:
    if not isinstance(raw, dict) or not isinstance(raw.get("files"), list) or not raw["files"]:
        raise _fail(path, raw, "forms must be a mapping with files: [a folder or file, ...]")
    here = Path(path).parent
    files: list[Path] = []
    for entry in raw["files"]:
        target = here / str(entry)
        if not target.exists():  # a variant copied elsewhere still finds the shipped forms
            target = SHIPPED_WORKFLOWS / str(entry)
        if target.is_dir():
            files.extend(sorted(target.glob("*.yaml")))
        elif target.is_file():
            files.append(target)
        else:
            raise _fail(path, raw["files"], f"forms: no such file or folder {str(entry)!r}")
    return files


class _LineDictLike(dict):
    """A mapping written inline as a plain value: errors name the line of the node holding it."""

    def __init__(self, values: dict, line: int) -> None:
        super().__init__(values)
        self.line = line


def _targets_ok(form: FormDef, target: str) -> bool:
    name, _, part = target.partition(".")
    spec = form.field(name)
    if spec is None:
        return False
    if part:
        return spec.type == "person" and part in spec.parts
    return True


def _record_spec(
    path: str,
    node: Any,
    owner: Any,
    forms: dict[str, FormDef],
    sources: tuple[str, ...],
    plain: set[str],
    what: str,
) -> RecordSpec:
    if isinstance(node, str):
        node = {"form": node}
    if not hasattr(node, "line"):
        node = _LineDictLike(node, _line(owner))
    if not isinstance(node, dict):
        raise _fail(path, node, f"{what}: records_form must be a form code or a mapping")
    code = node.get("form", node.get("records_form"))
    form = forms.get(code)
    if form is None:
        raise _fail(path, node, f"{what}: records_form names no form {code!r}")
    mapping: dict[str, str] = {}
    for target, source in (node.get("fields") or {}).items():
        if not _targets_ok(form, str(target)):
            raise _fail(path, node, f"{what}: {target!r} is no field of {code}")
        head = str(source).split(".", 1)[0]
        if head not in sources and str(source) not in plain:
            raise _fail(
                path,
                node,
                f"{what}: {source!r} is neither a field of the trigger nor one of {', '.join(sources)}.…",
            )
        mapping[str(target)] = str(source)
    for name in sorted(plain):  # a trigger field of the same name as a form field goes there
        mapped = any(target == name or target.startswith(f"{name}.") for target in mapping)
        if form.field(name) is not None and not mapped:
            mapping[name] = name
    return RecordSpec(form=code, fields=tuple(mapping.items()))


def load_forms(path: str | Path, definition: WorkflowDefinition) -> FormCatalog:
    """The forms a workflow file names, and which triggers record which form."""
    path = str(path)
    raw = _read(Path(path))
    if not isinstance(raw, dict) or raw.get("forms") is None:
        return FormCatalog(forms={}, by_trigger={}, intake=None)
    lists = raw.get("choice_lists") or {}
    if not isinstance(lists, dict):
        raise _fail(path, raw, "choice_lists must be a mapping")
    forms: dict[str, FormDef] = {}
    for file in _form_files(path, raw["forms"]):
        node = _read(file)
        where = str(file)
        if not isinstance(node, dict):
            raise WorkflowError(f"{where}: a form file must be a mapping")
        code = node.get("code")
        if code in forms:
            if "add_fields" not in node:
                raise _fail(where, node, f"form {code!r} is declared twice (a variant adds with add_fields)")
            forms[code] = _add_fields(where, node, forms[code], lists)
        else:
            forms[code] = _form(where, node, lists)
    for code, form in list(forms.items()):
        # A state the file has renamed (`renamed: {old: new}`) keeps its forms under the new name.
        if any(s in definition.renamed for s in form.states):
            states = type(form.states)(definition.renamed.get(s, s) for s in form.states)
            forms[code] = form = dataclasses.replace(form, states=states)
        unknown = [s for s in form.states if s not in definition.states]
        if unknown:
            raise WorkflowError(f"{path}: form {form.code!r}: states names an unknown state {unknown[0]!r}")
    by_trigger: dict[str, RecordSpec] = {}
    for node in raw.get("transitions") or []:
        if not isinstance(node, dict) or "records_form" not in node:
            continue
        trigger = node.get("trigger")
        transition = definition.transitions.get(trigger)
        if transition is None:
            raise _fail(path, node, f"records_form on an unknown trigger {trigger!r}")
        plain = {f.name for f in transition.fields}
        by_trigger[trigger] = _record_spec(
            path, node["records_form"], node, forms, TRIGGER_SOURCES, plain, f"trigger {trigger!r}"
        )
    intake = None
    raw_intake = raw["forms"].get("intake")
    if raw_intake is not None:
        if not isinstance(raw_intake, dict):
            raise _fail(path, raw["forms"], "forms intake must be a mapping")
        intake = _record_spec(path, raw_intake, raw_intake, forms, INTAKE_SOURCES, set(), "intake")
    return FormCatalog(forms=forms, by_trigger=by_trigger, intake=intake)


_catalogs: dict[str, FormCatalog] = {}


def forms_for(path: str, definition: WorkflowDefinition) -> FormCatalog:
    """The forms of a definition file, read once per process."""
    catalog = _catalogs.get(path)
    if catalog is None:
        catalog = _catalogs[path] = load_forms(path, definition)
    return catalog
