"""A case's annex forms: checked against their declaration, kept as revisions, filled by triggers.

Nothing here names a form or a field: what a form holds, which trigger records it and what
of the case it decides (the risk level of an assessment grid) is read from `workflows/forms/`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from caseflow.extensions import db
from caseflow.models import Agency, Case, FormRecord, OrgUnit, User
from caseflow.models.types import utcnow
from caseflow.services import access
from caseflow.services.errors import Conflict, Forbidden, Invalid, NotFound
from caseflow.services.validation import parse_moment
from caseflow.workflow import current_forms
from caseflow.workflow.clock import to_local
from caseflow.workflow.engine import Engine
from caseflow.workflow.forms import PERSON_PARTS, SEX_VALUES, FormDef, FormField

MAX_TEXT = 10_000
MAX_ROWS = 200
MAX_NUMBER = 10**12
RECORDED_AT_INTAKE = "intake"  # `recorded_with` of the revision the intake records
MAX_REVISION = 2**31 - 1  # the column's range: a larger number in a URL names no revision


def form_def(code: str) -> FormDef:
    form = current_forms().forms.get(code)
    if form is None:
        raise NotFound("No such form")
    return form


# -- checking values against the declaration --------------------------------------------


class _Errors(dict):
    def add(self, where: str, why: str) -> None:
        self.setdefault(where, why)


def _scalar(spec_type: str, value: Any, where: str, errors: _Errors, options: tuple[str, ...] = ()) -> Any:
    """One value of a simple type, in the form it is kept (dates and times as ISO text)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if spec_type == "text":
        if not isinstance(value, str):
            errors.add(where, "must be a string")
            return None
        if len(value) > MAX_TEXT:
            errors.add(where, f"must be at most {MAX_TEXT} characters")
            return None
        return value.strip()
    if spec_type == "bool":
        if not isinstance(value, bool):
            errors.add(where, "must be true or false")
            return None
        return value
    if spec_type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > MAX_NUMBER:
            errors.add(where, "must be a number")
            return None
        return value
    if spec_type == "choice":
        if value not in options:
            errors.add(where, f"must be one of: {', '.join(options)}")
            return None
        return value
    if spec_type == "date":
        if isinstance(value, str):
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        errors.add(where, "must be a date (YYYY-MM-DD)")
        return None
    if spec_type == "datetime":
        moment = parse_moment(value)
        if moment is None:
            errors.add(where, "must be an ISO 8601 date-time with a UTC offset")
            return None
        return moment.isoformat()
    raise ValueError(spec_type)  # pragma: no cover - the loader refuses other types


def _value(spec: FormField, value: Any, where: str, errors: _Errors, partial: bool) -> Any:
    if spec.type == "person":
        if value is None or value == {}:
            return None
        if not isinstance(value, dict):
            errors.add(where, "must be an object")
            return None
        person = {}
        for part, part_value in value.items():
            if part not in spec.parts:
                errors.add(f"{where}.{part}", f"is not a part of this field ({', '.join(spec.parts)})")
                continue
            clean = _scalar(PERSON_PARTS[part], part_value, f"{where}.{part}", errors, SEX_VALUES)
            if clean is not None:
                person[part] = clean
        return person or None
    if spec.type == "choices":
        if value is None or value == []:
            return None
        allowed = [o.value for o in spec.options]
        if not isinstance(value, list) or any(v not in allowed for v in value):
            errors.add(where, f"must be a list of: {', '.join(allowed)}")
            return None
        return [v for v in allowed if v in value]  # in the declaration's order, each once
    if spec.type == "rows":
        if value is None or value == []:
            return None
        if not isinstance(value, list):
            errors.add(where, "must be a list of rows")
            return None
        if len(value) > MAX_ROWS:
            errors.add(where, f"at most {MAX_ROWS} rows")
            return None
        rows = []
        for i, row in enumerate(value):
            if not isinstance(row, dict):
                errors.add(f"{where}[{i}]", "must be an object")
                continue
            cleaned = _fields(spec.fields, row, f"{where}[{i}].", errors, partial, drop_empty=True)
            if cleaned:
                rows.append(cleaned)
        return rows or None
    return _scalar(spec.type, value, where, errors, tuple(o.value for o in spec.options))


def _fields(
    specs: tuple[FormField, ...],
    data: dict,
    prefix: str,
    errors: _Errors,
    partial: bool,
    drop_empty: bool = False,
) -> dict:
    known = {s.name for s in specs}
    for name in data:
        if name not in known:
            errors.add(f"{prefix}{name}", "is not a field of this form")
    values = {s.name: _value(s, data.get(s.name), prefix + s.name, errors, partial) for s in specs}
    values = {k: v for k, v in values.items() if v is not None}
    if drop_empty and not values:
        return {}
    if not partial:
        for spec in specs:
            if spec.required and spec.name not in values and prefix + spec.name not in errors:
                errors.add(prefix + spec.name, "is required")
    return values


def check(form: FormDef, data: object, *, partial: bool = False) -> dict:
    """The form's values from `data`, kept as JSON; Invalid naming each bad field `data.<field>`.
    `partial`: what a trigger records may leave required fields for the officer to complete."""
    if not isinstance(data, dict):
        raise Invalid({"data": "must be a JSON object"})
    errors = _Errors()
    values = _fields(form.fields, data, "data.", errors, partial)
    if not partial:
        for flag, needed in form.requires_when:
            if values.get(flag) is True:
                for name in needed:
                    if name not in values:
                        errors.add(f"data.{name}", "is required")
    if form.risk_grid is not None and not errors:
        _grade(form, values, errors)
    if errors:
        raise Invalid(dict(errors))
    return values


def _grade(form: FormDef, values: dict, errors: _Errors) -> None:
    """The grid's conclusion is at least its highest grade, and is that grade when left empty."""
    grid = form.risk_grid
    levels = [o.value for o in form.field(grid.result).options]
    graded = [levels.index(values[name]) for name in grid.fields if name in values]
    if not graded:
        return
    highest = levels[max(graded)]
    result = values.get(grid.result)
    if result is None:
        values[grid.result] = highest
    elif levels.index(result) < levels.index(highest):
        errors.add(f"data.{grid.result}", f"must be at least {highest}, the highest level in the grid")


# -- reading ----------------------------------------------------------------------------


def latest_records(case: Case) -> dict[str, FormRecord]:
    """The latest revision of each form the case has, in one query."""
    newest = (
        select(FormRecord.code, func.max(FormRecord.revision).label("revision"))
        .where(FormRecord.case_id == case.id)
        .group_by(FormRecord.code)
        .subquery()
    )
    rows = db.session.scalars(
        select(FormRecord)
        .join(
            newest,
            (FormRecord.code == newest.c.code) & (FormRecord.revision == newest.c.revision),
        )
        .where(FormRecord.case_id == case.id)
    )
    return {r.code: r for r in rows}


def revisions(case: Case, code: str) -> list[FormRecord]:
    return list(
        db.session.scalars(
            select(FormRecord)
            .where(FormRecord.case_id == case.id, FormRecord.code == code)
            .order_by(FormRecord.revision)
        )
    )


def changes(
    form: FormDef, previous: FormRecord | None, record: FormRecord, show_identity: bool
) -> tuple[list[str], bool]:
    """The fields of the declaration a revision changed from the one before it (`previous`
    None: the first revision, against an empty form), in the declaration's order; and, for a
    caller who may not see identity, whether protected fields changed (without saying which)."""
    before, after = values_of(previous, show_identity), values_of(record, show_identity)
    names = [spec.name for spec in form.fields if before.get(spec.name) != after.get(spec.name)]
    hidden = not show_identity and ((previous.identity if previous else None) or {}) != (
        record.identity or {}
    )
    return names, hidden


def values_of(record: FormRecord | None, show_identity: bool) -> dict:
    """A revision's values; the identity fields only for a caller who may see identity."""
    if record is None:
        return {}
    return {**(record.data or {}), **(record.identity or {})} if show_identity else dict(record.data or {})


def record_json(record: FormRecord, show_identity: bool) -> dict:
    return {
        "code": record.code,
        "revision": record.revision,
        "recorded_at": record.recorded_at.isoformat(),
        "recorded_by": record.recorded_by.email if record.recorded_by else (record.recorded_with or "system"),
        "recorded_with": record.recorded_with,
        "reason": record.reason,
        "data": values_of(record, show_identity),
    }


def require_read(user: User, case: Case) -> None:
    if not access.may_read_dossier(user, case):
        raise Forbidden("Your role may not read the case's forms")


# -- writing ----------------------------------------------------------------------------


def _split(form: FormDef, values: dict) -> tuple[dict, dict]:
    identity = set(form.identity_fields)
    return (
        {k: v for k, v in values.items() if k not in identity},
        {k: v for k, v in values.items() if k in identity},
    )


def _defaults(form: FormDef, values: dict, now: datetime) -> dict:
    for spec in form.fields:
        if spec.name in values or spec.default is None:
            continue
        if spec.default == "today":
            values[spec.name] = to_local(now).date().isoformat()
        elif spec.default == "now":
            values[spec.name] = now.isoformat()
        else:
            values[spec.name] = spec.default
    return values


def defaults_of(form: FormDef) -> dict:
    """The values a new form starts with."""
    return _defaults(form, {}, utcnow())


def _next_revision(case: Case, code: str) -> int:
    current = db.session.scalar(
        select(func.max(FormRecord.revision)).where(FormRecord.case_id == case.id, FormRecord.code == code)
    )
    return (current or 0) + 1


def save(engine: Engine, user: User, case: Case, code: str, payload: object) -> FormRecord:
    """Store an edit of a form as its next revision, against the revision the editor started from.

    A stale revision is a 409 (someone saved in between); of two saves of the same revision
    the unique (case, code, revision) lets exactly one in, on SQLite and PostgreSQL alike.
    """
    from caseflow.services.transition import TransitionRun
    from caseflow.services.writes import case_write

    form = form_def(code)
    if not access.may_write_dossier(user, case) or user.role not in form.roles:
        raise Forbidden(
            "Only the officer or chair of the case's communes writes its forms (a decision: the chair)"
        )
    if not isinstance(payload, dict):
        raise Invalid({"body": "must be a JSON object"})
    revision = payload.get("revision")
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 0:
        raise Invalid({"revision": "is required: the revision you edited (0 for a new form)"})
    reason = payload.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 2000):
        raise Invalid({"reason": "must be a string of at most 2000 characters"})
    values = check(form, payload.get("data"))
    current = _next_revision(case, code) - 1
    if revision != current:
        raise Conflict(f"The form changed since you loaded it (revision {current}, you sent {revision})")
    run = TransitionRun(engine, case, user, {})
    grid = form.risk_grid
    try:
        with case_write():
            record = _insert(form, case, current + 1, values, user, None, reason, run.now)
            if (
                grid
                and grid.sets_case
                and values.get(grid.result) not in (None, getattr(case, grid.sets_case))
            ):
                run.change(case, **{grid.sets_case: values[grid.result]})
                run.write_changes()
            run.record("form_recorded", data={"code": code, "revision": record.revision})
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict("Someone else saved this form at the same moment; reload and try again") from exc
    return record


def _insert(
    form: FormDef,
    case: Case,
    revision: int,
    values: dict,
    user: User | None,
    recorded_with: str | None,
    reason: str | None,
    now: datetime,
) -> FormRecord:
    data, identity = _split(form, values)
    record = FormRecord(
        case_id=case.id,
        code=form.code,
        revision=revision,
        data=data,
        identity=identity,
        recorded_at=now,
        recorded_by_id=user.id if user else None,
        recorded_with=recorded_with,
        reason=reason,
    )
    if user is not None:
        record.recorded_by = user
    db.session.add(record)
    db.session.flush()  # the unique revision is checked here, inside the caller's transaction
    return record


# -- recorded by a trigger or the intake --------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, OrgUnit | Agency):
        return value.code
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if not str(k).startswith("_")}
    return value


def _resolve(path: str, roots: dict[str, Any], values: dict[str, Any]) -> Any:
    head, _, rest = path.partition(".")
    if head in roots:
        current = roots[head]
        for part in rest.split(".") if rest else []:
            current = current.get(part) if isinstance(current, dict) else getattr(current, part, None)
            if current is None:
                return None
        return current
    return values.get(path)


def _filled(form: FormDef, mapping: tuple[tuple[str, str], ...], roots: dict, values: dict) -> dict:
    data: dict[str, Any] = {}
    for target, source in mapping:
        value = _jsonable(_resolve(source, roots, values))
        if value is None:
            continue
        name, _, part = target.partition(".")
        if part:
            data.setdefault(name, {})[part] = value
        else:
            data[name] = value
    return data


def _record_from(run: Any, spec: Any, roots: dict, recorded_with: str) -> None:
    """Inside a transition: one indexed read of the form's latest revision and one INSERT, as
    plain rows (the transition's own writes avoid ORM objects for their CPU cost)."""
    form = form_def(spec.form)
    case = run.case
    table = FormRecord.__table__
    latest = db.session.execute(
        select(table.c.revision, table.c.data, table.c.identity)
        .where(table.c.case_id == case.id, table.c.code == form.code)
        .order_by(table.c.revision.desc())
        .limit(1)
    ).first()
    filled = _filled(form, spec.fields, roots, run.values)
    # What the officer already wrote on the form stays; the trigger's data is the newer word.
    merged = {**(latest.data if latest else {}), **(latest.identity if latest else {}), **filled}
    values = _defaults(form, check(form, merged, partial=True), run.now)
    revision = latest.revision + 1 if latest else 1
    data, identity = _split(form, values)
    db.session.execute(
        _INSERT_RECORD,
        {
            "case_id": case.id,
            "code": form.code,
            "revision": revision,
            "data": data,
            "identity": identity,
            "recorded_at": run.now,
            "recorded_by_id": run.actor.id if run.actor else None,
            "recorded_with": recorded_with,
            "reason": None,
        },
    )
    run.record("form_recorded", data={"code": form.code, "revision": revision, "by": recorded_with})


_INSERT_RECORD = insert(FormRecord.__table__)


def record_from_trigger(run: Any, transition: Any) -> None:
    """The form a trigger records (`records_form:` in the workflow file), filled from its data."""
    spec = current_forms().by_trigger.get(transition.trigger)
    if spec is not None:
        _record_from(run, spec, {"case": run.case}, transition.trigger)


def record_at_intake(run: Any) -> None:
    """Mẫu 01 (or what `forms: intake:` names) filled from the report the intake stored."""
    spec = current_forms().intake
    if spec is not None:
        case = run.case
        roots = {"case": case, "child": case.child, "informant": case.informant}
        _record_from(run, spec, roots, RECORDED_AT_INTAKE)
