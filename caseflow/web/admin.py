"""Administration: org units, agencies, user accounts, the holiday calendar and failed mail."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from caseflow import notifications as notifications_outbox
from caseflow.extensions import db
from caseflow.models.types import utcnow
from caseflow.services import accounts, admin_audit, calendar, directory, reference
from caseflow.services.errors import Conflict, Invalid, NotFound
from caseflow.web.forms import (
    AdminSearchForm,
    AgencyForm,
    CalendarDayForm,
    InviteForm,
    OrgUnitForm,
    PostForm,
    attach_errors,
)
from caseflow.web.helpers import permission_required
from caseflow.workflow.clock import to_local

bp = Blueprint("admin", __name__, url_prefix="/admin")
PER_PAGE = 50  # a province has about a thousand accounts and more agencies: a page of them at a time


def _unit_options() -> list[tuple[str, str]]:
    """The units as select options, read once for the list's filter and the form's select."""
    return [(u.code, f"{u.code} {u.name}") for u in directory.org_units()]


def _search(units: list[tuple[str, str]] | None = None) -> tuple[AdminSearchForm, dict, int]:
    """The list's search form, the query-string arguments that keep it across pages and
    actions, and the page asked for; a tampered unit is dropped, not an error page."""
    form = AdminSearchForm(request.args)
    form.unit.choices = [("", _("All units")), *(units if units is not None else _unit_options())]
    form.validate()
    args = {}
    if form.q.data and not form.q.errors:
        args["q"] = form.q.data.strip()
    if form.unit.data and not form.unit.errors:
        args["unit"] = form.unit.data
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    return form, args, page


def _pages(total: int) -> int:
    return max((total + PER_PAGE - 1) // PER_PAGE, 1)


def _listing(found: Any, page: int, args: dict, search: AdminSearchForm) -> dict[str, Any]:
    """What a paged, searched admin list's template needs besides its rows: the count, the
    pager and the search that keeps its place."""
    return {"total": found.total, "page": page, "pages": _pages(found.total), "args": args, "search": search}


@bp.route("/org-units", methods=["GET", "POST"])
@permission_required("administer")
def org_units() -> Response | tuple[str, int]:
    units = directory.org_units()
    form = OrgUnitForm()
    form.parent.choices = [("", _("None (a province)"))] + [(u.code, f"{u.code} {u.name}") for u in units]
    unplaced: list[str] = []
    if form.validate_on_submit():
        try:
            unit = reference.create_org_unit(
                {
                    "code": form.code.data,
                    "name": form.name.data,
                    "level": form.level.data,
                    "parent": form.parent.data or None,
                    "abbrev": form.abbrev.data or None,
                    "valid_from": form.valid_from.data.isoformat() if form.valid_from.data else None,
                    "valid_to": form.valid_to.data.isoformat() if form.valid_to.data else None,
                }
            )
        except Invalid as exc:
            unplaced = attach_errors(form, exc.fields)
        else:
            flash(_("Unit %(code)s created.", code=unit.code), "success")
            return redirect(url_for("admin.org_units"))
    status = 422 if request.method == "POST" else 200
    return render_template("pages/admin/org_units.html", units=units, form=form, unplaced=unplaced), status


@bp.route("/agencies", methods=["GET", "POST"])
@permission_required("administer")
def agencies() -> Response | tuple[str, int]:
    units = _unit_options()
    form = AgencyForm()
    form.org_unit.choices = units
    unplaced: list[str] = []
    if form.validate_on_submit():
        try:
            agency = reference.create_agency(
                {
                    "code": form.code.data,
                    "name": form.name.data,
                    "kind": form.kind.data,
                    "org_unit": form.org_unit.data,
                    "email": form.email.data,
                }
            )
        except Invalid as exc:
            unplaced = attach_errors(form, exc.fields)
        else:
            flash(_("Agency %(code)s created.", code=agency.code), "success")
            return redirect(url_for("admin.agencies"))
    status = 422 if request.method == "POST" else 200
    search, args, page = _search(units)
    found = directory.find_agencies(args.get("q"), directory.unit_by_code(args.get("unit")), page, PER_PAGE)
    return render_template(
        "pages/admin/agencies.html",
        agencies=found.items,
        **_listing(found, page, args, search),
        form=form,
        unplaced=unplaced,
    ), status


@bp.get("/")
@permission_required("administer")
def index() -> Response:
    return redirect(url_for("admin.users"))


@bp.route("/users", methods=["GET", "POST"])
@permission_required("administer")
def users() -> Response | tuple[str, int]:
    form = InviteForm()
    form.org_unit.choices = [("", _("None")), *_unit_options()]
    unplaced: list[str] = []
    if form.validate_on_submit():
        password = accounts.new_password()
        try:
            user = reference.create_user(
                {
                    "email": form.email.data,
                    "name": form.name.data,
                    "role": form.role.data,
                    "org_unit": form.org_unit.data or None,
                    "agency": form.agency.data or None,
                    "locale": form.locale.data,
                    "password": password,
                }
            )
        except (Invalid, Conflict) as exc:
            unplaced = attach_errors(form, exc.fields)
        else:
            # Shown once in this response (never in the cookie-borne flash), to hand over in person.
            return _users_page(InviteForm(formdata=None), [], new_password=(user.email, password))
    return _users_page(form, unplaced, status=422 if request.method == "POST" else 200)


def _users_page(
    form: InviteForm, unplaced: list[str], *, status: int = 200, new_password: tuple[str, str] | None = None
) -> tuple[str, int]:
    if not form.org_unit.choices:
        form.org_unit.choices = [("", _("None")), *_unit_options()]
    search, args, page = _search(form.org_unit.choices[1:])
    found = accounts.find_users(args.get("q"), directory.unit_by_code(args.get("unit")), page, PER_PAGE)
    return render_template(
        "pages/admin/users.html",
        users=found.items,
        **_listing(found, page, args, search),
        form=form,
        unplaced=unplaced,
        action_form=PostForm(),
        new_password=new_password,
        now_utc=utcnow(),
    ), status


def _back_to_users() -> Response:
    """Back to the page of the list the action was taken from (its URL carries the search)."""
    _form, args, page = _search()
    return redirect(url_for("admin.users", page=page, **args))


@bp.post("/users/<int:user_id>/<any(activate, deactivate):change>")
@permission_required("administer")
def set_active(user_id: int, change: str) -> Response:
    if PostForm().validate_on_submit():
        user = accounts.set_active(user_id, change == "activate")
        message = (
            _("%(email)s can sign in again.", email=user.email)
            if user.active
            else _("%(email)s is deactivated and signed out.", email=user.email)
        )
        flash(message, "success")
    return _back_to_users()


@bp.post("/users/<int:user_id>/reset-password")
@permission_required("administer")
def reset_password(user_id: int) -> Response | tuple[str, int]:
    if not PostForm().validate_on_submit():
        return _back_to_users()
    user = accounts.get_user(user_id)
    password = accounts.reset_password(user_id)
    return _users_page(InviteForm(formdata=None), [], new_password=(user.email, password))


@bp.route("/calendar", methods=["GET", "POST"])
@permission_required("administer")
def calendar_page() -> Response | tuple[str, int]:
    year = request.args.get("year", type=int) or to_local(utcnow()).year
    if not 2000 <= year <= 2100:
        abort(404)
    form = CalendarDayForm()
    if form.validate_on_submit():
        calendar.set_day(form.day.data, form.kind.data, form.name.data or "")
        flash(_("Calendar updated for %(day)s.", day=form.day.data.strftime("%d/%m/%Y")), "success")
        return redirect(url_for("admin.calendar_page", year=form.day.data.year))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "pages/admin/calendar.html",
        year=year,
        days=calendar.days_of_year(year),
        form=form,
        delete_form=PostForm(),
    ), status


@bp.post("/calendar/<day>/delete")
@permission_required("administer")
def delete_day(day: str) -> Response:
    try:
        when = date.fromisoformat(day)
    except ValueError:
        abort(404)
    if PostForm().validate_on_submit():
        try:
            calendar.delete_day(when)
        except NotFound:
            abort(404)
        flash(_("Exception on %(day)s removed.", day=when.strftime("%d/%m/%Y")), "success")
    return redirect(url_for("admin.calendar_page", year=when.year))


@bp.get("/notifications")
@permission_required("administer")
def notifications() -> str:
    return render_template(
        "pages/admin/notifications.html", items=notifications_outbox.failed_notifications(), form=PostForm()
    )


@bp.post("/notifications/<int:notification_id>/retry")
@permission_required("administer")
def retry(notification_id: int) -> Response:
    if PostForm().validate_on_submit():
        if notifications_outbox.retry_notification(notification_id):
            admin_audit.admin_event(db.session, "notification.retried", f"notification:{notification_id}")
            db.session.commit()
            flash(_("The message is queued to be sent again."), "success")
        else:
            flash(_("This message is no longer in the failed list."), "info")
    return redirect(url_for("admin.notifications"))
