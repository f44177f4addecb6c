"""Tokens, org units, agencies, users and the workflow definition."""

from __future__ import annotations

from flask import current_app, jsonify, request
from sqlalchemy import select

from caseflow.api import bp, current_user, json_body, require_auth
from caseflow.api.schemas import (
    AgencyList,
    AgencyOut,
    Body,
    Day,
    NewAgency,
    NewOrgUnit,
    NewUser,
    OrgUnitList,
    OrgUnitOut,
    Request,
    TokenRequest,
    TokenResponse,
    UserList,
    UserOut,
    Workflow,
    text,
)
from caseflow.api.spec import body, endpoint
from caseflow.extensions import db
from caseflow.models import Agency, OrgUnit, User
from caseflow.services import mergers, reference
from caseflow.services.tokens import issue_token
from caseflow.workflow import current_engine


@bp.post("/auth/token")
# Credentials it cannot use are a 401 whatever their type: the answer never says which part was wrong.
@endpoint(json=TokenRequest, check=False, ok={200: TokenResponse}, errors=(401, 429), auth=False)
def token():  # noqa: ANN201
    """Exchange an email and password for a bearer token"""
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
@endpoint(ok={200: UserOut})
def me():  # noqa: ANN201
    """The caller's own account"""
    return jsonify(current_user().to_json())


@bp.post("/org-units")
@require_auth("admin")
@endpoint(json=NewOrgUnit, ok={201: OrgUnitOut}, errors=(403, 409))
def create_org_unit():  # noqa: ANN201
    """Add an org unit (admin)"""
    return jsonify(reference.create_org_unit(body()).to_json()), 201


@bp.get("/org-units")
@require_auth()
@endpoint(ok={200: OrgUnitList})
def list_org_units():  # noqa: ANN201
    """Every org unit, by its place in the tree"""
    units = db.session.scalars(select(OrgUnit).order_by(OrgUnit.path)).all()
    items = [u.to_json() for u in units]
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


class MergeRequest(Request):
    into: text(20, required=True)
    on: Day


class MergeMoved(Body):
    cases: int
    tasks: int
    agencies: int
    users: int


class MergeOut(Body):
    unit: OrgUnitOut
    into: OrgUnitOut
    on: Day
    moved: MergeMoved


@bp.post("/org-units/<code>/merge")
@require_auth("admin")
# The service checks the body itself, naming `on` and `into` as the contract says.
@endpoint(json=MergeRequest, check=False, ok={200: MergeOut}, errors=(403, 404, 409, 422))
def merge_org_unit(code: str):  # noqa: ANN201
    """Merge a unit into its successor from a date (admin): the 2025 reform"""
    return jsonify(mergers.merge_unit(code, json_body(), current_user()).to_json())


@bp.post("/agencies")
@require_auth("admin")
@endpoint(json=NewAgency, ok={201: AgencyOut}, errors=(403, 409))
def create_agency():  # noqa: ANN201
    """Add an agency (admin)"""
    return jsonify(reference.create_agency(body()).to_json()), 201


@bp.get("/agencies")
@require_auth()
@endpoint(ok={200: AgencyList})
def list_agencies():  # noqa: ANN201
    """Every agency"""
    agencies = db.session.scalars(select(Agency).order_by(Agency.code)).all()
    items = [a.to_json() for a in agencies]
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.post("/users")
@require_auth("admin")
@endpoint(json=NewUser, ok={201: UserOut}, errors=(403, 409))
def create_user():  # noqa: ANN201
    """Add a user (admin)"""
    return jsonify(reference.create_user(body()).to_json()), 201


@bp.get("/users")
@require_auth("admin")
@endpoint(ok={200: UserList}, errors=(403,))
def list_users():  # noqa: ANN201
    """Every user (admin)"""
    users = db.session.scalars(select(User).order_by(User.email)).all()
    items = [u.to_json() for u in users]
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.get("/workflow")
@require_auth()
@endpoint(ok={200: Workflow})
def workflow():  # noqa: ANN201
    """The workflow definition in force"""
    return jsonify(current_engine().definition.to_json(current_user().locale or "vi"))
