"""Intake (form Mẫu 01) and the case page: where the case stands, what is due, what the user may do now."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caseflow.display import local_date
from caseflow.models import Case
from caseflow.models.types import utcnow
from caseflow.services import access, cases, directory, intake, limits, transition
from caseflow.services.calendar import load_calendar
from caseflow.services.duplicates import visible_earlier_references
from caseflow.services.effects import applicable
from caseflow.services.errors import Conflict, Forbidden, Invalid, Why
from caseflow.services.pathway import pathway_of
from caseflow.services.visibility import case_view
from caseflow.web.errors import conflict_text
from caseflow.web.forms import (
    SHOWN_WITH,
    CompleteTaskForm,
    NoteForm,
    action_data,
    action_form,
    attach_errors,
    blank_measure,
    edit_measure_rows,
    intake_form,
)
from caseflow.web.helpers import (
    completed_by_step,
    data_rows,
    locale,
    permission_required,
    roles_required,
    task_label,
    time_left,
)
from caseflow.web.trail import completed_via, describe
from caseflow.workflow import current_engine
from caseflow.workflow.clock import to_local

bp = Blueprint("cases", __name__)


@bp.route("/cases/new", methods=["GET", "POST"])
@roles_required()
def new_case() -> Response | str | tuple[str, int]:
    if not access.may_open_case(current_user):
        abort(403)
    communes = directory.current_communes()
    form = intake_form()
    form.incident_commune.choices = [
        (c.code, c.name) for c in communes if access.may_open_case_in(current_user, c)
    ]
    form.residence_commune.choices = [("", _("Same as where it happened"))] + [
        (c.code, c.name) for c in communes
    ]
    unplaced: list[str] = []
    if request.method == "GET":
        form.received_at.data = to_local(utcnow()).replace(tzinfo=None, second=0, microsecond=0)
        if current_user.org_unit is not None and current_user.org_unit.level == "commune":
            form.incident_commune.data = current_user.org_unit.code
    elif form.validate_on_submit():
        try:
            case = intake.open_case(current_user, form.payload())
        except Invalid as exc:
            unplaced = attach_errors(form, exc.fields)
        except Forbidden as exc:
            unplaced = attach_errors(form, exc.fields or {"incident_commune": Why("outside_area")})
        else:
            flash(
                _("Report recorded as %(ref)s. The verification task is assigned.", ref=case.reference),
                "success",
            )
            return redirect(url_for("cases.show", case_id=case.id))
    if request.method == "POST":
        return render_template("pages/intake.html", form=form, unplaced=unplaced), 422
    return render_template("pages/intake.html", form=form, unplaced=unplaced)


@bp.get("/cases/<int:case_id>")
@permission_required("see_cases")
def show(case_id: int) -> str:
    return _case_page(case_id)


@bp.post("/cases/<int:case_id>/actions/<trigger>")
@permission_required("see_cases")
def act(case_id: int, trigger: str) -> Response | tuple[str, int]:
    engine = current_engine()
    spec = engine.definition.transitions.get(trigger)
    if spec is None:
        abort(404)
    case = cases.get_case(current_user, case_id, to_decide=True)
    choices = _choices_for(case)
    form = action_form(spec, *choices, formdata=request.form)
    if edit_measure_rows(form, spec, request.form, choices[0]):
        # "Add a measure" or "Remove" pressed without scripts: the same form comes back with a row
        # more or less, and nothing is saved.
        return _case_page(case_id, failed=(trigger, form), status=200)
    if not form.validate():
        return _case_page(case_id, failed=(trigger, form), status=422)
    try:
        version = int(form.version.data)
    except (TypeError, ValueError):
        abort(400)
    try:
        transition.fire(engine, case, current_user, trigger, version, action_data(form, spec))
    except Invalid as exc:
        unplaced = attach_errors(form, exc.fields, strip="data.")
        return _case_page(case_id, failed=(trigger, form), status=422, messages=unplaced)
    except Conflict as exc:
        return _case_page(case_id, failed=(trigger, form), status=409, conflict=conflict_text(exc))
    flash(
        _(
            "Done: %(action)s. The case is now: %(state)s.",
            action=spec.label.get(locale(), trigger),
            state=engine.definition.states[case.state].label.get(locale(), case.state),
        ),
        "success",
    )
    return redirect(url_for("cases.show", case_id=case_id))


@bp.post("/cases/<int:case_id>/notes")
@permission_required("see_cases")
def add_note(case_id: int) -> Response | tuple[str, int]:
    form = NoteForm()
    if not form.validate_on_submit():
        return _case_page(case_id, note_form=form, status=422)
    cases.add_note(current_engine(), current_user, case_id, {"text": form.text.data})
    flash(_("Note added."), "success")
    return redirect(url_for("cases.show", case_id=case_id) + "#notes")


def _choices_for(case: Case) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[int, str]]]:
    agencies = [(a.code, f"{a.name}") for a in directory.agencies_serving(case.residence_commune)]
    communes = [(c.code, c.name) for c in directory.current_communes()]
    measures = [
        (t.id, f"{task_label(t)} ({t.agency.name})")
        for t in case.tasks
        if t.status == "open"
        and (tpl := current_engine().definition.tasks.get(t.template)) is not None
        and tpl.agency_kind == "from_measure"
    ]
    return agencies, communes, measures


def _case_page(
    case_id: int,
    *,
    failed: tuple[str, object] | None = None,
    note_form: NoteForm | None = None,
    status: int = 200,
    messages: list[str] | None = None,
    conflict: str | None = None,
) -> tuple[str, int]:
    """The case page. Every display goes through `read_case`, which writes the read into the trail."""
    engine = current_engine()
    definition = engine.definition
    case = cases.read_case(engine, current_user, case_id)
    view = case_view(current_user, case)
    now, calendar = utcnow(), load_calendar()
    asked_only = access.only_asked_to_take_over(current_user, case)
    trail = cases.trail_of(case) if view.casework and not asked_only else []
    via = completed_via(trail)
    shown_tasks = view.tasks(case)
    task_rows = [
        {
            "task": t,
            "left": time_left(t, now, calendar) if t.status == "open" else None,
            "by_step": completed_by_step(t),
            "via": via.get(t.id),
            "may_complete": t.status == "open"
            and not completed_by_step(t)
            and access.may_complete(current_user, t, definition),
        }
        for t in shown_tasks
    ]
    actions, others = [], []
    choices = None
    for trigger in engine.allowed_from(case.state):
        spec = definition.transitions[trigger]
        if not applicable(spec, case):  # e.g. extend a separation that is not running
            continue
        if not access.may_fire(current_user, definition, case, trigger):
            others.append(spec)
            continue
        choices = choices or _choices_for(case)
        if failed and failed[0] == trigger:
            form = failed[1]
            form.version.data = str(case.version)  # after a 409 the user resubmits against what they now see
        else:
            form = action_form(spec, *choices)
            form.version.data = str(case.version)
        actions.append(
            {
                "spec": spec,
                "form": form,
                "open": bool(failed and failed[0] == trigger),
                "blank_measure": blank_measure(spec, choices[0]),
            }
        )
    asked = asked_only
    show_reads = request.args.get("reads") == "1"
    lines = describe([e for e in trail if show_reads or e.kind != "read"], case)
    return render_template(
        "pages/case.html",
        case=case,
        definition=definition,
        view=view,
        is_agency=view.agency_only,
        identity=case.child if view.child else None,
        informant=case.informant if view.informant else None,
        task_rows=task_rows,
        actions=actions,
        others=[] if view.agency_only else others,
        lines=lines,
        notes=[line for line in lines if line.kind == "note"],
        reads=sum(1 for e in trail if e.kind == "read"),
        show_reads=show_reads,
        note_form=note_form or NoteForm(),
        complete_form=CompleteTaskForm(),
        pathway=pathway_of(definition, case.state, trail),
        shown_with=SHOWN_WITH,
        plan_measures=_plan_measures(case) if view.casework else [],
        messages=messages or [],
        conflict=conflict,
        now=now,
        age=_age(case, now),
        earlier=visible_earlier_references(current_user, case),
        asked=asked,
        data_rows=data_rows(definition, case) if view.casework else [],
    ), status


def _plan_measures(case: Case) -> list[dict]:
    """The plan's measures as the chair approves them: each agency by its name, each date local."""
    measures = [m for m in (case.plan or {}).get("measures") or [] if isinstance(m, dict)]
    codes = {m.get("agency") for m in measures if isinstance(m.get("agency"), str)}
    names = directory.names_by_code(codes)
    return [
        {
            "agency": names.get(m.get("agency"), ""),
            "description": m.get("description") or "",
            "due": local_date(m.get("due_at")),
        }
        for m in measures
    ]


def _age(case: Case, now: datetime) -> int | None:
    child = case.child
    if child is None:
        return None
    if child.date_of_birth:
        return limits.age_on(child.date_of_birth, to_local(now).date())
    return child.estimated_age
