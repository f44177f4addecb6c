"""The OpenAPI 3.1 document of the API; a test checks it lists exactly the routes that exist."""

from __future__ import annotations

from flask import jsonify

from caseflow.api import bp
from caseflow.models.calendar import DAY_KINDS
from caseflow.models.cases import CHANNELS, HARM_TYPES, SEXES
from caseflow.models.tasks import TASK_STATUSES

ERROR = {"$ref": "#/components/schemas/Error"}
CASE = {"$ref": "#/components/schemas/Case"}


def _list_of(ref: str) -> dict:
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
        },
    }


def _op(
    summary: str,
    ok: int = 200,
    schema: dict | None = None,
    body: dict | None = None,
    params: list | None = None,
    auth: bool = True,
) -> dict:
    responses = {
        str(ok): {
            "description": "OK",
            **({"content": {"application/json": {"schema": schema}}} if schema else {}),
        }
    }
    for code in ("400", "401", "403", "404", "409", "422"):
        responses[code] = {"description": "Error", "content": {"application/json": {"schema": ERROR}}}
    op: dict = {"summary": summary, "responses": responses}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    if not auth:
        op["security"] = []
    return op


def _q(name: str, kind: str = "string") -> dict:
    return {"name": name, "in": "query", "required": False, "schema": {"type": kind}}


def _path(name: str, kind: str = "integer") -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


PAGING = [_q("page", "integer"), _q("per_page", "integer")]
OBJ = {"type": "object"}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "CaseFlow API", "version": "1"},
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "properties": {
                    "error": {
                        "type": "object",
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                        },
                    }
                },
            },
            "Task": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "kind": {"type": "string"},
                    "agency": {"type": "string"},
                    "status": {"enum": list(TASK_STATUSES)},
                    "due_at": {"type": "string", "format": "date-time"},
                    "overdue": {"type": "boolean"},
                    "completed_at": {"type": ["string", "null"]},
                    "rule": {"type": "string"},
                    "legal_basis": {"type": "string"},
                },
            },
            "CaseSummary": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "reference": {"type": "string"},
                    "state": {"type": "string"},
                    "version": {"type": "integer"},
                    "risk_level": {"type": ["string", "null"]},
                    "harm_types": {"type": "array", "items": {"type": "string"}},
                    "incident_commune": {"type": "string"},
                    "residence_commune": {"type": "string"},
                    "received_at": {"type": "string"},
                    "closed_at": {"type": ["string", "null"]},
                },
            },
            "Case": {
                "allOf": [
                    {"$ref": "#/components/schemas/CaseSummary"},
                    {
                        "type": "object",
                        "properties": {
                            "child": {
                                "type": "object",
                                "description": "only for roles that may see identity",
                            },
                            "tasks": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
                            "allowed_triggers": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                ]
            },
            "NewCase": {
                "type": "object",
                "required": ["incident_commune", "channel", "harm_types", "summary", "child"],
                "properties": {
                    "incident_commune": {"type": "string"},
                    "residence_commune": {"type": "string"},
                    "received_at": {"type": "string", "format": "date-time"},
                    "channel": {"enum": list(CHANNELS)},
                    "harm_types": {
                        "type": "array",
                        "items": {"enum": list(HARM_TYPES)},
                    },
                    "summary": {"type": "string", "maxLength": 10000},
                    "child": {
                        "type": "object",
                        "required": ["full_name"],
                        "properties": {
                            "full_name": {"type": "string"},
                            "date_of_birth": {"type": "string", "format": "date"},
                            "estimated_age": {"type": "integer", "minimum": 0, "maximum": 15},
                            "sex": {"enum": list(SEXES)},
                            "address": {"type": "string"},
                        },
                    },
                    "informant": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "phone": {"type": "string"},
                            "consent": {"type": "boolean"},
                        },
                    },
                },
            },
            "Event": {
                "type": "object",
                "properties": {
                    "at": {"type": "string"},
                    "actor": {"type": "string"},
                    "kind": {"type": "string"},
                    "from_state": {"type": ["string", "null"]},
                    "to_state": {"type": ["string", "null"]},
                    "data": {"type": "object"},
                },
            },
            "CalendarDay": {
                "type": "object",
                "properties": {
                    "date": {"type": "string", "format": "date"},
                    "kind": {"enum": list(DAY_KINDS)},
                    "name": {"type": "string"},
                },
            },
        },
    },
    "paths": {
        "/auth/token": {
            "post": _op(
                "Exchange email and password for a bearer token",
                body={
                    "type": "object",
                    "required": ["email", "password"],
                    "properties": {"email": {"type": "string"}, "password": {"type": "string"}},
                },
                auth=False,
            )
        },
        "/me": {"get": _op("The caller's own account")},
        "/org-units": {"get": _op("Org units"), "post": _op("Add an org unit (admin)", 201, body=OBJ)},
        "/org-units/{code}/merge": {
            "post": _op(
                "Merge a unit into its successor from a date (admin)",
                body=OBJ,
                params=[_path("code", "string")],
            )
        },
        "/agencies": {"get": _op("Agencies"), "post": _op("Add an agency (admin)", 201, body=OBJ)},
        "/users": {"get": _op("Users (admin)"), "post": _op("Add a user (admin)", 201, body=OBJ)},
        "/workflow": {"get": _op("The workflow definition in force")},
        "/cases": {
            "get": _op(
                "Cases in the caller's reach, without the child's identity",
                schema=_list_of("CaseSummary"),
                params=[
                    *PAGING,
                    _q("state"),
                    _q("overdue", "boolean"),
                    _q("org_unit"),
                    _q("reference"),
                    _q("risk_level"),
                    _q("harm_type"),
                ],
            ),
            "post": _op(
                "Record a report and open its case", 201, CASE, {"$ref": "#/components/schemas/NewCase"}
            ),
        },
        "/cases/{case_id}": {
            "get": _op("One case (the read is audited)", schema=CASE, params=[_path("case_id")])
        },
        "/cases/{case_id}/transitions": {
            "post": _op(
                "Fire a trigger",
                schema=CASE,
                params=[_path("case_id")],
                body={
                    "type": "object",
                    "required": ["trigger", "version"],
                    "properties": {
                        "trigger": {"type": "string"},
                        "version": {"type": "integer"},
                        "data": {"type": "object"},
                    },
                },
            )
        },
        "/cases/{case_id}/notes": {
            "post": _op(
                "Add a note",
                201,
                params=[_path("case_id")],
                body={"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
            )
        },
        "/cases/{case_id}/events": {
            "get": _op("The audit trail", schema=_list_of("Event"), params=[_path("case_id")])
        },
        "/tasks": {
            "get": _op(
                "Tasks the caller may see",
                schema=_list_of("Task"),
                params=[*PAGING, _q("status"), _q("overdue", "boolean")],
            )
        },
        "/tasks/{task_id}/complete": {
            "post": _op(
                "Complete a task",
                params=[_path("task_id")],
                body={
                    "type": "object",
                    "required": ["outcome"],
                    "properties": {"outcome": {"type": "string"}, "note": {"type": "string"}},
                },
            )
        },
        "/calendar": {
            "get": _op(
                "Holidays and make-up working days of a year",
                schema=_list_of("CalendarDay"),
                params=[{**_q("year", "integer"), "required": True}],
            )
        },
        "/calendar/{date}": {
            "put": _op(
                "Set a calendar exception (admin)",
                params=[_path("date", "string")],
                body={
                    "type": "object",
                    "required": ["kind"],
                    "properties": {"kind": {"enum": list(DAY_KINDS)}, "name": {"type": "string"}},
                },
            ),
            "delete": _op("Remove a calendar exception (admin)", 204, params=[_path("date", "string")]),
        },
        "/calendar/due": {
            "get": _op(
                "The deadline a rule gives",
                params=[
                    {**_q("start"), "required": True},
                    _q("working_days", "integer"),
                    _q("hours", "integer"),
                ],
            )
        },
        "/dashboard/overdue": {"get": _op("Overdue work by org unit and agency for the caller's subtree")},
        "/openapi.json": {"get": _op("This document", auth=False)},
    },
}


@bp.get("/openapi.json")
def openapi():  # noqa: ANN201
    return jsonify(DOCUMENT)
