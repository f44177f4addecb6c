"""The periodic report, the reporting obligations and the ad-hoc reports (contract: "Reports")."""

from __future__ import annotations

from flask import Response, current_app, jsonify, request
from flask_babel import force_locale
from pydantic import Field

from caseflow.api import bp, current_user, json_body, require_auth
from caseflow.api.schemas import Body, Day, Moment, Page, Query, choice
from caseflow.api.spec import endpoint
from caseflow.models import User
from caseflow.models.cases import HARM_TYPES
from caseflow.models.orgs import LEVELS
from caseflow.models.types import utcnow
from caseflow.services import obligations, report_files, reports
from caseflow.services.errors import Invalid
from caseflow.workflow import current_engine

REPORT_ROLES = ("supervisor", "officer", "chair")
FORMATS = ("json", "xlsx", "csv")
FILE_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",  # UTF-8, with a BOM for Excel
}


# The documented models. The query's values are text checked by services/reports.py (dates,
# period, unit in reach), so the error messages stay those of the rest of the reports.
class PeriodicQuery(Query):
    org_unit: str | None = Field(None, description="a unit code (default: the caller's own)")
    from_: str | None = Field(None, alias="from", description="first day, YYYY-MM-DD")
    to: str | None = Field(None, description="last day, YYYY-MM-DD")
    format: choice(FORMATS) | None = Field(None, description="json (default), xlsx or csv")


class YearQuery(Query):
    year: str | None = Field(None, description="YYYY (default: this year)")


# A count, or "<5" where a small count is suppressed once the report leaves the commune; an
# average (hours, days) is a number, or null when nothing was measured.
Figure = int | float | str | None


class BreakdownValue(Body):
    code: str
    label: str
    value: Figure


class Breakdown(Body):
    dimension: str
    label: str
    values: list[BreakdownValue] = Field(description="in the order people expect; `not_recorded` last")


class Figures(Body):
    """One indicator as computed: its value and its breakdowns, keyed by code."""

    code: str
    value: Figure
    breakdown: dict[str, dict[str, Figure]] = Field(description="per dimension, each value's count")
    total: Figure = Field(None, description="of the timeliness indicators: the tasks counted")


class Indicator(Figures):
    label: str
    breakdowns: list[Breakdown]


class PeriodicReport(Body):
    org_unit: str
    org_unit_name: str
    level: choice(LEVELS)
    level_label: str
    from_: Day = Field(alias="from")
    to: Day
    indicators: list[Indicator]
    suppressed: bool | None = Field(None, description="true when counts below `min_count` are hidden")
    min_count: int | None = None


class FrozenReport(Body):
    """The figures as they stood when the report was submitted (unlabelled, unsuppressed)."""

    org_unit: str
    org_unit_name: str
    level: choice(LEVELS)
    from_: Day = Field(alias="from")
    to: Day
    indicators: list[Figures]


class Obligation(Body):
    id: int
    org_unit: str
    org_unit_name: str
    period: str = Field(description="the obligation's code in the workflow file")
    label: str
    year: int
    from_: Day = Field(alias="from")
    to: Day
    due_at: Moment
    status: choice(("due", "submitted", "overdue"))
    submitted_at: Moment | None
    escalation_level: int


class SubmittedObligation(Obligation):
    figures: FrozenReport


class ObligationList(Page):
    items: list[Obligation]


class AdhocReport(Body):
    """The ad-hoc report of a serious case: the case by reference, never the child."""

    id: int
    case_id: int
    case_reference: str
    commune: str
    commune_name: str
    reasons: list[str]
    harm_types: list[choice(HARM_TYPES)]
    created_at: Moment


class AdhocList(Page):
    items: list[AdhocReport]


def periodic_report(user: User, unit_code: str | None, start: str | None, end: str | None, fmt: str) -> dict:
    """The labelled report for the caller, suppressed when it leaves the commune."""
    period = reports.parse_period(start, end)
    unit = reports.report_unit(user, unit_code)
    return report_files.prepared(
        current_engine().definition,
        user,
        unit,
        period,
        export=fmt != "json",
        min_count=current_app.config["REPORT_MIN_COUNT"],
        locale=user.locale or "vi",
    )


@bp.get("/reports/periodic")
@require_auth(*REPORT_ROLES)
@endpoint(
    query=PeriodicQuery, ok={200: PeriodicReport}, files={200: tuple(FILE_TYPES.values())}, errors=(403, 404)
)
def periodic():  # noqa: ANN201
    """The periodic figures of a unit for a period (JSON, XLSX or CSV)"""
    fmt = request.args.get("format") or "json"
    if fmt not in FORMATS:
        raise Invalid({"format": f"must be one of: {', '.join(FORMATS)}"})
    user = current_user()
    with force_locale(user.locale or "vi"):
        report = periodic_report(
            user, request.args.get("org_unit"), request.args.get("from"), request.args.get("to"), fmt
        )
        if fmt == "json":
            return jsonify(report)
        name = f"bao-cao-{report['org_unit']}-{report['from']}-{report['to']}.{fmt}"
        if fmt == "csv":
            body = report_files.to_csv(report).encode("utf-8")
        else:
            body = report_files.to_xlsx(report, f"{user.name} <{user.email}>", utcnow())
    return Response(
        body,
        content_type=FILE_TYPES[fmt] + ("; charset=utf-8" if fmt == "csv" else ""),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/reports/obligations")
@require_auth(*REPORT_ROLES)
@endpoint(query=YearQuery, ok={200: ObligationList}, errors=(403,))
def list_obligations():  # noqa: ANN201
    """The reports each unit owes in a year, and whether they are in"""
    raw = request.args.get("year") or str(utcnow().year)
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        raise Invalid({"year": "must be a year from 2000 to 2100"})
    items = obligations.for_user(current_engine().definition, current_user(), int(raw))
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.post("/reports/obligations/<int:obligation_id>/submit")
@require_auth("officer", "chair")
@endpoint(ok={200: SubmittedObligation}, errors=(400, 403, 404, 409))
def submit_obligation(obligation_id: int):  # noqa: ANN201
    """Submit a report, freezing its figures as they stand"""
    if request.get_data():
        json_body()  # a body, if any, must be JSON (nothing in it is read)
    row = obligations.submit(current_engine().definition, current_user(), obligation_id)
    return jsonify(row)


@bp.get("/reports/adhoc")
@require_auth("supervisor")
@endpoint(ok={200: AdhocList}, errors=(403,))
def list_adhoc():  # noqa: ANN201
    """Ad-hoc reports of serious cases in the caller's units"""
    from caseflow.services import adhoc

    items = adhoc.for_user(current_user())
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})
