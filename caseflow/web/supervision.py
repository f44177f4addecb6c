"""Supervision: overdue work by commune and agency, the filtered case list and its CSV export."""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import DateTime, Select, String, cast, type_coerce

from caseflow.display import local_time as local
from caseflow.extensions import db
from caseflow.models import OrgUnit
from caseflow.models.types import utcnow
from caseflow.services import (
    adhoc,
    admin_audit,
    cases,
    obligations,
    permissions,
    report_files,
    reports,
    supervision,
)
from caseflow.services.calendar import load_calendar
from caseflow.services.dashboard import overdue_dashboard
from caseflow.services.errors import Conflict, Invalid
from caseflow.services.serialize import case_summary_json
from caseflow.web.charts import grouped_bars
from caseflow.web.forms import FilterForm
from caseflow.web.helpers import (
    CHANNEL_LABELS,
    HARM_LABELS,
    RISK_LABELS,
    locale,
    permission_required,
    roles_required,
    state_label,
    time_left,
)
from caseflow.workflow import current_engine
from caseflow.workflow.clock import to_local

bp = Blueprint("supervision", __name__)
PER_PAGE = 25  # small pages: many users are on phones over slow links


@bp.get("/supervision")
@permission_required("see_overview")
def dashboard() -> str:
    data = overdue_dashboard(current_user)
    units, agencies = data["by_org_unit"], data["by_agency"]
    scale = max([1] + [r["open_cases"] for r in units] + [r["overdue_tasks"] for r in units])
    agency_scale = max([1] + [r["overdue_tasks"] for r in agencies])
    period, unit, period_error = _period_and_unit()
    # Agency staff see their agency's overdue work; the communes' trends and late lists are the
    # reporting bodies' (see_reports), counted over units an agency does not reach.
    reporter = permissions.allows(current_user.role, "see_reports")
    trends = supervision.monthly_trends(current_user, period, unit) if reporter else []
    chart = (
        grouped_bars(
            [f"{t.month[5:]}/{t.month[2:4]}" for t in trends],
            [[t.received for t in trends], [t.overdue for t in trends], [t.closed for t in trends]],
            [_("Received"), _("Went overdue"), _("Closed")],
        )
        if reporter
        else None
    )
    return render_template(
        "pages/supervision.html",
        units=units,
        agencies=agencies[: supervision.OVERVIEW_AGENCIES_LIMIT],
        agencies_total=len(agencies),
        scale=scale,
        agency_scale=agency_scale,
        total_open=sum(r["open_cases"] for r in units),
        total_overdue=sum(r["overdue_tasks"] for r in units),
        form=_filter_form(),
        trends=trends,
        chart=chart,
        late=_late_with_time(supervision.late_tasks(current_user, unit)) if reporter else [],
        late_limit=supervision.LATE_TASKS_LIMIT,
        reporter=reporter,
        period=period,
        period_error=period_error,
        unit=unit,
        units_in_reach=supervision.units_in_reach(current_user) if reporter else [],
    )


@bp.get("/supervision/agencies")
@permission_required("see_overview")
def agencies_page() -> str:
    """Every agency in reach with overdue tasks, the most first: the overview's list in full."""
    agencies = overdue_dashboard(current_user)["by_agency"]
    return render_template(
        "pages/supervision_agencies.html",
        agencies=agencies,
        agency_scale=max([1] + [r["overdue_tasks"] for r in agencies]),
    )


def _period_and_unit() -> tuple[reports.Period, OrgUnit | None, str | None]:
    """The page's date range and unit from the query string; a bad value falls back to the
    default (the last twelve months) with a message, never an error page. A unit outside the
    caller's reach is ignored."""
    today = to_local(utcnow()).date()
    year, month = (today.year, today.month - 11) if today.month == 12 else (today.year - 1, today.month + 1)
    period, error = reports.Period(date(year, month, 1), today), None
    if request.args.get("from") or request.args.get("to"):
        try:
            period = reports.parse_period(
                request.args.get("from") or period.start.isoformat(),
                request.args.get("to") or today.isoformat(),
            )
        except Invalid:
            error = _("The dates were not valid: the last twelve months are shown.")
    code = request.args.get("unit")
    unit = (
        next((u for u in supervision.units_in_reach(current_user) if u.code == code), None) if code else None
    )
    return period, unit, error


def _late_with_time(late: list[dict]) -> list[dict]:
    """Each late task with how late it is on its deadline's own clock (hours, days or working
    days), in the words every other deadline on the pages uses."""
    now, calendar = utcnow(), load_calendar()
    return [{**r, "left": time_left(r["task"], now, calendar)} for r in late]


def _filter_form() -> FilterForm:
    form = FilterForm(request.args)
    form.state.choices = [("", _("Choose..."))] + [
        (s, state_label(s)) for s in current_engine().definition.states
    ]
    return form


def _filters(form: FilterForm) -> dict:
    """Only values the form accepts reach the query; a tampered one is dropped, not an error page."""
    form.validate()
    return {
        "state": form.state.data if form.state.data and not form.state.errors else None,
        "risk_level": form.risk_level.data if form.risk_level.data and not form.risk_level.errors else None,
        "harm_type": form.harm_type.data if form.harm_type.data and not form.harm_type.errors else None,
        "overdue": bool(form.overdue.data),
        "reference": (form.reference.data or "").strip() or None,
    }


@bp.get("/cases")
@permission_required("see_cases")
def case_list() -> str:
    form = _filter_form()
    filters = _filters(form)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    found = cases.list_cases(current_user, page, PER_PAGE, **filters)
    now = utcnow()
    rows = [
        case_summary_json(c, now)
        | {"incident_name": c.incident_commune.name, "residence_name": c.residence_commune.name, "obj": c}
        for c in found.items
    ]
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "pages/cases.html",
        rows=rows,
        total=found.total,
        total_exact=found.exact,
        page=page,
        form=form,
        args=args,
        pages=max((found.total + PER_PAGE - 1) // PER_PAGE, 1),
        may_export=permissions.allows(current_user.role, "export_cases"),
    )


@bp.get("/cases/export.csv")
@permission_required("export_cases")
def export() -> Response:
    """The filtered list as CSV. Built from the list form of a case, which never holds the child.

    Streamed: rows come from a server-side cursor a batch at a time and leave as they are
    written, so the first byte goes out at once and memory stays flat over the whole register."""
    filters = _filters(_filter_form())
    query = _export_query(cases.export_rows(current_user, **filters))
    # The file leaves CaseFlow: who took which list goes on the administrators' trail first.
    admin_audit.admin_event(db.session, "cases.exported", "cases", **{k: v for k, v in filters.items() if v})
    db.session.commit()
    header = [
        _("Reference"),
        _("State"),
        _("Risk"),
        _("Harm"),
        _("Channel"),
        _("Incident commune"),
        _("Residence commune"),
        _("Received at"),
        _("Closed at"),
        _("Overdue tasks"),
    ]
    states = {name: state_label(name) for name in current_engine().definition.states}
    risks = {key: str(text) for key, text in RISK_LABELS.items()}
    channels = {key: str(text) for key, text in CHANNEL_LABELS.items()}
    harm_words = _harm_words()

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # Excel opens UTF-8 Vietnamese correctly only with a BOM
        writer.writerow(header)
        yield buffer.getvalue()
        # Core rows on the session's connection, options for this statement only (set on the
        # connection, they would make every later statement of the session a cursor too).
        streamed = {"stream_results": True, "yield_per": EXPORT_BATCH}
        for batch in db.session.connection().execute(query, execution_options=streamed).partitions():
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(
                (
                    ref,
                    states.get(state, state),
                    risks.get(risk, risk or ""),
                    harm_words(harm_types),
                    channels.get(channel, channel),
                    incident,
                    residence,
                    _local_naive(received),
                    _local_naive(closed),
                    overdue,
                )
                for ref, state, risk, harm_types, channel, incident, residence, received, closed, overdue in batch
            )
            yield buffer.getvalue()

    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="caseflow-cases-{stamp}.csv"'},
    )


EXPORT_BATCH = 2000  # rows a cursor fetch and a chunk of the response hold


def _export_query(query: Select) -> Select:
    """The export's select as `cases.export_rows` makes it, read cheaply: the harm list as its
    JSON text (a few distinct lists, each decoded once) and the moments as stored (naive UTC),
    not converted by the column type per row. Wrapped, not edited: the list query is shared."""
    columns = [
        cast(c, String).label(c.key)
        if c.key == "harm_types"
        else type_coerce(c, DateTime()).label(c.key)
        if c.key in ("received_at", "closed_at")
        else c
        for c in query.selected_columns
    ]
    return query.with_only_columns(*columns, maintain_column_froms=True)


def _harm_words() -> Callable[[str | None], str]:
    """The harm list's words from its JSON text, decoded once per distinct list."""
    harms = {key: str(text) for key, text in HARM_LABELS.items()}

    @functools.cache
    def words(text: str | None) -> str:
        return "; ".join(harms.get(h, h) for h in json.loads(text) or []) if text else ""

    return words


def _local_naive(value: datetime | str | None) -> str:
    """A stored naive-UTC moment as every page shows it (`display.local_time`)."""
    if value is None:
        return ""
    if isinstance(value, str):  # SQLite hands back the text it stores
        value = datetime.fromisoformat(value)
    return local(value.replace(tzinfo=UTC))


# -- reports ------------------------------------------------------------------------------------


@bp.get("/reports/periodic")
@permission_required("see_reports")
def periodic_report() -> str:
    """The periodic report on a printable page; the same figures as the API and the files.

    Opened without a period or a unit, the page is the form, filled with the last twelve
    months: a report is counted when it is asked for (a province's year is most of the
    register), not on every visit to the page."""
    period, unit, error = _period_and_unit()
    unit = unit or current_user.org_unit
    asked = any(request.args.get(name) for name in ("from", "to", "unit"))
    report = (
        report_files.prepared(
            current_engine().definition,
            current_user,
            unit,
            period,
            export=False,
            min_count=current_app.config["REPORT_MIN_COUNT"],
            locale=locale(),
        )
        if asked
        else None
    )
    args = {"from": period.start.isoformat(), "to": period.end.isoformat(), "unit": unit.code}
    return render_template(
        "pages/supervision_report.html",
        report=report,
        period=period,
        period_error=error,
        unit=unit,
        units_in_reach=supervision.units_in_reach(current_user),
        args=args,
        produced_at=utcnow(),
    )


@bp.get("/reports/periodic.<any(xlsx, csv):fmt>")
@permission_required("see_reports")
def periodic_file(fmt: str) -> Response:
    """The report as a file: it leaves CaseFlow, so its small counts are always suppressed."""
    period, unit, _error = _period_and_unit()
    unit = unit or current_user.org_unit
    report = report_files.prepared(
        current_engine().definition,
        current_user,
        unit,
        period,
        export=True,  # a file leaves CaseFlow: its small counts are always suppressed
        min_count=current_app.config["REPORT_MIN_COUNT"],
        locale=locale(),
    )
    name = f"bao-cao-{unit.code}-{period.start.isoformat()}-{period.end.isoformat()}.{fmt}"
    if fmt == "csv":
        body, mimetype = report_files.to_csv(report).encode("utf-8"), "text/csv; charset=utf-8"
    else:
        body = report_files.to_xlsx(report, current_user.name, utcnow())
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.get("/supervision/reports")
@permission_required("see_reports")
def obligations_page() -> str:
    """The reports owed this year: who has submitted, who is late."""
    year = request.args.get("year", type=int) or to_local(utcnow()).year
    year = year if 2000 <= year <= 2100 else to_local(utcnow()).year
    definition = current_engine().definition
    rows = obligations.rows_for_user(definition, current_user, year)
    now, language = utcnow(), locale()
    items = [obligations.obligation_json(definition, r, now, language) | {"row": r} for r in rows]
    return render_template(
        "pages/supervision_obligations.html",
        items=items,
        year=year,
        late=sum(1 for i in items if i["status"] == "overdue"),
        may_submit=current_user.role in ("officer", "chair"),
    )


@bp.post("/supervision/reports/<int:obligation_id>/submit")
@roles_required("officer", "chair")
def submit_obligation(obligation_id: int) -> Response:
    try:
        obligations.submit(current_engine().definition, current_user, obligation_id)
        flash(_("The report was submitted with its figures as they stand today."), "success")
    except Conflict:
        flash(_("This report was submitted already."), "error")
    return redirect(url_for("supervision.obligations_page", year=request.form.get("year", type=int)))


@bp.get("/supervision/adhoc")
@roles_required("supervisor")
def adhoc_page() -> str:
    reasons = {
        **HARM_LABELS,
        "serious_harm": _("Serious harm to life, health or dignity"),
        "child_died": _("The child died"),
    }
    return render_template(
        "pages/supervision_adhoc.html", items=adhoc.for_user(current_user), reason_labels=reasons
    )
