"""Tokens, org units, agencies, users and the workflow definition."""

from __future__ import annotations

from flask import current_app, jsonify, request
from sqlalchemy import select

from caseflow.api import bp, current_user, json_body, require_auth
from caseflow.extensions import db
from caseflow.models import Agency, OrgUnit, User
from caseflow.services import mergers, reference
from caseflow.services.tokens import issue_token
from caseflow.workflow import current_engine


@bp.post("/auth/token")
def token():  # noqa: ANN201
    data = json_body()
    if not isinstance(data, dict):
        data = {}
    value, expires = issue_token(
        data.get("email"),
        data.get("password"),
        current_app.config["API_TOKEN_HOURS"],
        request.remote_addr,
        data.get("totp"),  # the authenticator code, for users who set one up
    )
    return jsonify({"token": value, "expires_at": expires.isoformat()})


@bp.get("/me")
@require_auth()
def me():  # noqa: ANN201
    return jsonify(current_user().to_json())


@bp.post("/org-units")
@require_auth("admin")
def create_org_unit():  # noqa: ANN201
    return jsonify(reference.create_org_unit(json_body()).to_json()), 201


@bp.get("/org-units")
@require_auth()
def list_org_units():  # noqa: ANN201
    units = db.session.scalars(select(OrgUnit).order_by(OrgUnit.path)).all()
    items = [u.to_json() for u in units]
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.post("/org-units/<code>/merge")
@require_auth("admin")
def merge_org_unit(code: str):  # noqa: ANN201
    """The 2025 reform: close the unit from `on` and move its open work to `into`."""
    return jsonify(mergers.merge_unit(code, json_body(), current_user()).to_json())


@bp.post("/agencies")
@require_auth("admin")
def create_agency():  # noqa: ANN201
    return jsonify(reference.create_agency(json_body()).to_json()), 201


@bp.get("/agencies")
@require_auth()
def list_agencies():  # noqa: ANN201
    agencies = db.session.scalars(select(Agency).order_by(Agency.code)).all()
    items = [a.to_json() for a in agencies]
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.post("/users")
@require_auth("admin")
def create_user():  # noqa: ANN201
    return jsonify(reference.create_user(json_body()).to_json()), 201


@bp.get("/users")
@require_auth("admin")
def list_users():  # noqa: ANN201
    users = db.session.scalars(select(User).order_by(User.email)).all()
    items = [u.to_json() for u in users]
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.get("/workflow")
@require_auth()
def workflow():  # noqa: ANN201
    return jsonify(current_engine().definition.to_json(current_user().locale or "vi"))
