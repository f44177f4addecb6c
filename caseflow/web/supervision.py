"""Supervision: overdue work by commune and agency, the filtered case list and its CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user

from caseflow.extensions import db
from caseflow.models.types import utcnow
from caseflow.services import cases, permissions
from caseflow.services.dashboard import overdue_dashboard
from caseflow.services.serialize import case_summary_json
from caseflow.web.forms import FilterForm
from caseflow.web.helpers import HARM_LABELS, local, permission_required, state_label
from caseflow.workflow import current_engine

bp = Blueprint("supervision", __name__)
PER_PAGE = 25  # small pages: many users are on phones over slow links


@bp.get("/supervision")
@permission_required("see_overview")
def dashboard() -> str:
    data = overdue_dashboard(current_user)
    units, agencies = data["by_org_unit"], data["by_agency"]
    scale = max([1] + [r["open_cases"] for r in units] + [r["overdue_tasks"] for r in units])
    agency_scale = max([1] + [r["overdue_tasks"] for r in agencies])
    return render_template(
        "pages/supervision.html",
        units=units,
        agencies=agencies,
        scale=scale,
        agency_scale=agency_scale,
        total_open=sum(r["open_cases"] for r in units),
        total_overdue=sum(r["overdue_tasks"] for r in units),
        form=_filter_form(),
    )


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
    items, total = cases.list_cases(current_user, page, PER_PAGE, **filters)
    now = utcnow()
    rows = [
        case_summary_json(c, now)
        | {"incident_name": c.incident_commune.name, "residence_name": c.residence_commune.name, "obj": c}
        for c in items
    ]
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "pages/cases.html",
        rows=rows,
        total=total,
        page=page,
        form=form,
        args=args,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        may_export=permissions.allows(current_user.role, "export_cases"),
    )


@bp.get("/cases/export.csv")
@permission_required("export_cases")
def export() -> Response:
    """The filtered list as CSV. Built from the list form of a case, which never holds the child."""
    query = cases.export_rows(current_user, **_filters(_filter_form()))
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
    harms = {key: str(text) for key, text in HARM_LABELS.items()}

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # Excel opens UTF-8 Vietnamese correctly only with a BOM
        writer.writerow(header)
        result = db.session.execute(query.execution_options(yield_per=1000))
        for ref, state, risk, harm_types, channel, incident, residence, received, closed, overdue in result:
            writer.writerow(
                [
                    ref,
                    states.get(state, state),
                    risk or "",
                    "; ".join(harms.get(h, h) for h in harm_types or []),
                    channel,
                    incident,
                    residence,
                    local(received),
                    local(closed),
                    overdue,
                ]
            )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="caseflow-cases-{stamp}.csv"'},
    )
