"""The dossier pages: each annex form as an editable page drawn from its declaration, its
printed documents, and the case's attachments, for the communes handling the case."""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from caseflow.extensions import db
from caseflow.models import Case, FormRecord
from caseflow.services import access, attachments, audit, cases, documents
from caseflow.services import forms as form_service
from caseflow.services.errors import Conflict, DomainError, Forbidden, Invalid, TooLarge, UnsupportedType
from caseflow.web.errors import field_text
from caseflow.web.helpers import locale, roles_required, trigger_label
from caseflow.workflow import current_engine, current_forms
from caseflow.workflow.clock import LOCAL_TZ
from caseflow.workflow.forms import PERSON_PARTS, SEX_VALUES, FormDef

bp = Blueprint("dossier", __name__)
DOSSIER_ROLES = ("officer", "chair", "supervisor")
BLANK_ROWS = 2  # empty rows offered under the filled ones; without script a page cannot add more
PART_LABELS = documents.PART_LABELS
PART_INPUTS = {"birth_date": "date", "age": "number", "sex": "choice", "address": "text"}
# The services explain in English; the page says it in the user's language (checked before the
# shared list, whose "must be at least" is about passwords).
FORM_ERRORS = (
    ("must be at least", _l("The conclusion cannot be lower than the highest level in the grid.")),
    ("must be a date", _l("Give a date.")),
    ("must be an ISO 8601", _l("Give a date and a time.")),
    ("must be a number", _l("Give a number.")),
    ("must be a list of", _l("Choose from the options.")),
    ("is not a field of this form", _l("This field is not part of the form.")),
)


def _why(text: str) -> str:
    for prefix, message in FORM_ERRORS:
        if text.startswith(prefix):
            return str(message)
    return field_text(text)


def _html_name(key: str) -> str:
    """`data.participants[0].name` -> `participants-0-name`, the name of the input on the page."""
    key = key.removeprefix("data.")
    return re.sub(r"\[(\d+)\]\.?", r"-\1-", key).replace(".", "-").rstrip("-")


# -- the page's inputs as the form's data ---------------------------------------------------


def _scalar_in(kind: str, raw: str | None) -> Any:
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    if kind == "bool":
        return {"true": True, "false": False}.get(raw, raw)
    if kind == "number":
        try:
            return int(raw)
        except ValueError:
            try:
                return float(raw.replace(",", "."))
            except ValueError:
                return raw  # the service names it
    if kind == "datetime":
        try:  # a datetime-local input is local time, without an offset
            return datetime.fromisoformat(raw).replace(tzinfo=LOCAL_TZ).isoformat()
        except ValueError:
            return raw
    return raw


def _posted(form: FormDef, values: Any) -> dict:
    data: dict[str, Any] = {}
    for spec in form.fields:
        name = f"f-{spec.name}"
        if spec.type == "person":
            person = {
                part: _scalar_in(
                    "date" if part == "birth_date" else PERSON_PARTS[part], values.get(f"{name}-{part}")
                )
                for part in spec.parts
            }
            data[spec.name] = {k: v for k, v in person.items() if v is not None} or None
        elif spec.type == "rows":
            count = min(int(values.get(f"{name}-count", "0") or 0), form_service.MAX_ROWS)
            rows = []
            for i in range(count):
                row = {c.name: _scalar_in(c.type, values.get(f"{name}-{i}-{c.name}")) for c in spec.fields}
                if any(v is not None for v in row.values()):
                    rows.append({k: v for k, v in row.items() if v is not None})
            data[spec.name] = rows or None
        elif spec.type == "choices":
            data[spec.name] = [v for v in values.getlist(name) if v] or None
        else:
            data[spec.name] = _scalar_in(spec.type, values.get(name))
    return {k: v for k, v in data.items() if v is not None}


# -- the data as the page's inputs ----------------------------------------------------------


def _shown(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "bool":
        return "true" if value else "false"
    if kind == "datetime":
        try:
            return datetime.fromisoformat(value).astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def _inputs(
    form: FormDef, values: dict, errors: dict[str, str], raw: Any = None, writable: bool = True
) -> list[dict]:
    """Each field as the template draws it: its label, its inputs' names and values, its error.
    A page that cannot be saved offers no empty rows to fill (one, for a table with none)."""
    lang = locale()
    out = []
    for spec in form.fields:
        base = f"f-{spec.name}"
        item: dict[str, Any] = {
            "spec": spec,
            "id": base,
            "label": spec.label.get(lang, spec.name),
            "error": errors.get(spec.name),
            "options": [(o.value, o.label.get(lang, o.value)) for o in spec.options],
        }
        value = values.get(spec.name)
        if spec.type == "person":
            item["parts"] = [
                {
                    "id": f"{base}-{part}",
                    "label": str(PART_LABELS[part]),
                    "input": PART_INPUTS.get(part, "line"),
                    "options": [(v, str(documents.SEX_WORDS[v])) for v in SEX_VALUES]
                    if part == "sex"
                    else [],
                    "value": raw.get(f"{base}-{part}", "")
                    if raw is not None
                    else _shown("text", (value or {}).get(part)),
                    "error": errors.get(f"{spec.name}-{part}"),
                }
                for part in spec.parts
            ]
        elif spec.type == "rows":
            rows = list(value or [])
            blank = BLANK_ROWS if writable else (0 if rows else 1)
            count = int(raw.get(f"{base}-count", "0") or 0) if raw is not None else len(rows) + blank
            item["count"] = count
            item["columns"] = [
                (c, c.label.get(lang, c.name), [(o.value, o.label.get(lang, o.value)) for o in c.options])
                for c in spec.fields
            ]
            item["rows"] = []
            for i in range(count):
                row = rows[i] if i < len(rows) else {}
                cells = []
                for column in spec.fields:
                    name = f"{base}-{i}-{column.name}"
                    shown = (
                        raw.get(name, "") if raw is not None else _shown(column.type, row.get(column.name))
                    )
                    cells.append(
                        {"id": name, "value": shown, "error": errors.get(f"{spec.name}-{i}-{column.name}")}
                    )
                item["rows"].append(cells)
        elif spec.type == "choices":
            item["values"] = raw.getlist(base) if raw is not None else list(value or [])
        else:
            item["value"] = raw.get(base, "") if raw is not None else _shown(spec.type, value)
        out.append(item)
    return out


# -- pages ----------------------------------------------------------------------------------


def _case(case_id: int) -> Case:
    case = cases.get_case(current_user, case_id)
    if not access.may_read_dossier(current_user, case):
        abort(403)
    return case


def _form_page(
    case: Case,
    form: FormDef,
    *,
    errors: dict | None = None,
    raw: Any = None,
    status: int = 200,
    conflict: str | None = None,
    revision: int | None = None,
) -> tuple[str, int]:
    """The form's latest revision, editable by who may write it; or (`revision`) an older one,
    read only."""
    latest = form_service.latest_records(case).get(form.code)
    record = latest
    if revision is not None:
        record = next((r for r in form_service.revisions(case, form.code) if r.revision == revision), None)
        if record is None:
            abort(404)
    viewing_old = revision is not None and record.revision != latest.revision
    shown = access.can_see_identity(current_user, case)
    seen = {"view": "form", "code": form.code, "identity_shown": shown}
    if revision is not None:
        seen["revision"] = revision
    audit.add(case.id, "read", actor=current_user, data=seen)
    db.session.commit()
    # A form not yet written opens with its defaults (today's date, the decision's grounds).
    values = form_service.values_of(record, shown) if record else form_service.defaults_of(form)
    may_write = (
        not viewing_old and access.may_write_dossier(current_user, case) and current_user.role in form.roles
    )
    page_errors = {_html_name(k): _why(v) for k, v in (errors or {}).items()}
    names = {spec.name for spec in form.fields}
    unplaced = [v for k, v in page_errors.items() if k.split("-")[0] not in names]
    return render_template(
        "pages/form_edit.html",
        case=case,
        form=form,
        record=record,
        latest=latest,
        viewing_old=viewing_old,
        fields=_inputs(form, values, page_errors, raw, writable=may_write),
        hidden_identity=not shown and bool(form.identity_fields),
        may_write=may_write,
        revision=latest.revision if latest else 0,
        errors=page_errors,
        unplaced=unplaced,
        conflict=conflict,
        title=form.title.get(locale(), form.code),
        short=form.short.get(locale(), form.code),
    ), status


@bp.get("/cases/<int:case_id>/forms/<code>")
@roles_required(*DOSSIER_ROLES)
def edit(case_id: int, code: str) -> tuple[str, int]:
    form = current_forms().forms.get(code) or abort(404)
    return _form_page(_case(case_id), form)


def _recorded_how(record: FormRecord) -> str:
    """How a revision came about when a step, not an edit of the form, wrote it."""
    if not record.recorded_with:
        return ""
    if record.recorded_with == form_service.RECORDED_AT_INTAKE:
        return _("Recorded from the report at intake")
    return _("Recorded by the step: %(step)s", step=trigger_label(record.recorded_with))


@bp.get("/cases/<int:case_id>/forms/<code>/revisions")
@roles_required(*DOSSIER_ROLES)
def revisions(case_id: int, code: str) -> str:
    """Every revision of a form, newest first: who, when, which fields it changed."""
    form = current_forms().forms.get(code) or abort(404)
    case = _case(case_id)
    shown = access.can_see_identity(current_user, case)
    labels = {spec.name: spec.label.get(locale(), spec.name) for spec in form.fields}
    items, previous = [], None
    for record in form_service.revisions(case, code):
        changed, hidden = form_service.changes(form, previous, record, shown)
        items.append(
            {
                "record": record,
                "first": previous is None,
                "changed": [labels[n] for n in changed],
                "hidden": hidden,
                "how": _recorded_how(record),
            }
        )
        previous = record
    audit.add(
        case.id,
        "read",
        actor=current_user,
        data={"view": "form_revisions", "code": code, "identity_shown": shown},
    )
    db.session.commit()
    return render_template(
        "pages/form_revisions.html",
        case=case,
        form=form,
        items=items[::-1],
        title=form.title.get(locale(), form.code),
        short=form.short.get(locale(), form.code),
    )


@bp.get("/cases/<int:case_id>/forms/<code>/revisions/<int:revision>")
@roles_required(*DOSSIER_ROLES)
def revision(case_id: int, code: str, revision: int) -> tuple[str, int]:
    form = current_forms().forms.get(code) or abort(404)
    if not 0 < revision <= form_service.MAX_REVISION:
        abort(404)
    return _form_page(_case(case_id), form, revision=revision)


@bp.post("/cases/<int:case_id>/forms/<code>")
@roles_required(*DOSSIER_ROLES)
def save(case_id: int, code: str) -> Response | tuple[str, int]:
    form = current_forms().forms.get(code) or abort(404)
    case = _case(case_id)
    try:
        revision = int(request.form.get("revision", ""))
    except ValueError:
        abort(400)
    payload = {"data": _posted(form, request.form), "revision": revision}
    try:
        form_service.save(current_engine(), current_user, case, code, payload)
    except Invalid as exc:
        return _form_page(case, form, errors=exc.fields, raw=request.form, status=422)
    except Conflict:
        message = _(
            "Someone else saved this form after you opened it. The page now shows their version: check it and enter your changes again."
        )
        return _form_page(case, form, status=409, conflict=message)
    except Forbidden:
        abort(403)
    flash(_("Saved: %(form)s.", form=form.short.get(locale(), code)), "success")
    return redirect(url_for("cases.show", case_id=case_id) + "#dossier-h")


@bp.get("/cases/<int:case_id>/documents/<name>")
@roles_required(*DOSSIER_ROLES)
def document(case_id: int, name: str) -> Response:
    case = _case(case_id)
    try:
        content, mimetype, filename = documents.download(current_user, case, name)
    except DomainError as exc:
        abort(exc.status)
    return send_file(io.BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=filename)


@bp.post("/cases/<int:case_id>/attachments")
@roles_required(*DOSSIER_ROLES)
def upload(case_id: int) -> Response:
    case = _case(case_id)
    request.max_content_length = attachments.max_bytes() + 64 * 1024
    try:
        item = attachments.add(current_user, case, request.files.get("file"), request.form)
    except (RequestEntityTooLarge, TooLarge):
        flash(
            _("The file is too large: at most %(n)s MB.", n=attachments.max_bytes() // (1024 * 1024)), "error"
        )
    except UnsupportedType:
        flash(_("Only PDF, JPEG, PNG and Word (DOCX) files can be attached."), "error")
    except Invalid:
        flash(_("Choose a file to attach."), "error")
    except Forbidden:
        abort(403)
    else:
        flash(_("File attached: %(name)s.", name=item.filename), "success")
    return redirect(url_for("cases.show", case_id=case_id) + "#dossier-h")


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
@roles_required(*DOSSIER_ROLES)
def attachment(case_id: int, attachment_id: int) -> Response:
    case = _case(case_id)
    item, path = attachments.open_for_download(current_user, case, attachment_id)
    return send_file(path, mimetype=item.content_type, as_attachment=True, download_name=item.filename)


def case_dossier(case: Case) -> dict | None:
    """What the case page's dossier section shows; None for a role that does not read it."""
    if not current_user.is_authenticated or not access.may_read_dossier(current_user, case):
        return None
    records = form_service.latest_records(case)
    lang = locale()
    return {
        "forms": [
            {
                "code": f.code,
                "short": f.short.get(lang, f.code),
                "title": f.title.get(lang, f.code),
                "record": records.get(f.code),
                "needed": case.state in f.states,  # written at the step the case is in
            }
            for f in current_forms().forms.values()
        ],
        "attachments": attachments.list_for(current_user, case),
        "may_write": access.may_write_dossier(current_user, case),
        "kinds": ATTACHMENT_KIND_LABELS,
    }


ATTACHMENT_KIND_LABELS = {
    "evidence": _l("Evidence"),
    "signed_form": _l("Signed and stamped form"),
    "other": _l("Other document"),
}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["case_dossier"] = case_dossier
