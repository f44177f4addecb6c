"""The working-day calendar and the deadline calculator."""

from __future__ import annotations

from datetime import date

from flask import jsonify, request

from caseflow.api import bp, require_auth
from caseflow.api.schemas import CalendarDay, CalendarEdit, CalendarList, CalendarQuery, DueAt, DueQuery
from caseflow.api.spec import body, endpoint
from caseflow.services import calendar
from caseflow.services.errors import Invalid
from caseflow.services.validation import Fields, parse_moment


@bp.get("/calendar")
@require_auth()
@endpoint(query=CalendarQuery, ok={200: CalendarList})
def list_days():  # noqa: ANN201
    """Holidays and make-up working days of a year"""
    try:
        year = int(request.args.get("year", ""))
        if not 1900 <= year <= 2200:
            raise ValueError
    except ValueError:
        raise Invalid({"year": "must be a year such as 2026"}) from None
    items = [d.to_json() for d in calendar.days_of_year(year)]
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid({"date": "must be a date (YYYY-MM-DD)"}) from None


@bp.put("/calendar/<date>")
@require_auth("admin")
@endpoint(json=CalendarEdit, ok={200: CalendarDay}, errors=(403,))
def put_day(date: str):  # noqa: ANN201 - named as in the contract and the OpenAPI document
    """Set a calendar exception (admin)"""
    fields = Fields(body())
    kind = fields.choice("kind", ("holiday", "workday"), required=True)
    name = fields.string("name", max_length=200) or ""
    fields.raise_if_any()
    return jsonify(calendar.set_day(_day(date), kind, name).to_json())


@bp.delete("/calendar/<date>")
@require_auth("admin")
@endpoint(ok={204: None}, errors=(403, 404, 422))
def delete_day(date: str):  # noqa: ANN201
    """Remove a calendar exception (admin)"""
    calendar.delete_day(_day(date))
    return "", 204


@bp.get("/calendar/due")
@require_auth()
@endpoint(query=DueQuery, ok={200: DueAt})
def due():  # noqa: ANN201
    """The deadline a rule gives: working days or wall-clock hours from a moment"""
    errors = {}
    start = parse_moment(request.args.get("start"))
    if start is None:
        errors["start"] = "must be an ISO 8601 date-time with a UTC offset"
    values = {}
    for name in ("working_days", "hours"):
        raw = request.args.get(name)
        if raw is not None:
            if raw.isascii() and raw.isdigit() and int(raw) <= 3660:  # "²" is a digit to isdigit()
                values[name] = int(raw)
            else:
                errors[name] = "must be a whole number from 0 to 3660"
    if len(values) != 1 and not errors:
        errors["working_days"] = "give exactly one of working_days or hours"
    if errors:
        raise Invalid(errors)
    return jsonify({"due_at": calendar.due_at(start, **values).isoformat()})
