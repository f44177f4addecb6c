"""The JSON API of the contract (/api/v1): bearer tokens only, never the session cookie.

To add an endpoint (in a new module of this package, imported in `init_app` below):

1. Declare its request and response bodies as pydantic models: in `caseflow/api/schemas.py`,
   or in your module. Request models subclass `schemas.Request` (strict JSON types, unknown
   keys ignored), query models `schemas.Query`, response models `schemas.Body` (every key the
   view always returns is required, keys only some roles get have a default of None; extra
   keys allowed). Model names must be unique across the package: they name the components.
   A trigger's `data` needs no model of yours: `triggers.py` builds them from the YAML.
2. Decorate the view, `endpoint` *below* `require_auth` (the token is checked first):

       @bp.put("/cases/<int:case_id>/forms/<code>")
       @require_auth()
       @endpoint(json=FormEdit, ok={200: FormRecord}, errors=(403, 404, 409))
       def put_form(case_id: int, code: str):
           \"\"\"Record a new revision of a form\"\"\"   (the summary in the document)
           data = body()  # the JSON object, already checked against FormEdit
           ...

   `ok` maps each success status to its model (None: no body, e.g. `{204: None}`); `errors`
   lists every other status the view can answer (401 comes with auth, 400, 413 and 422
   with a body, 422 with `query=`). A bad body is then a 422 naming each field, in the contract's
   error shape. A file answer (a PDF, an XLSX) declares `ok={200: None}` (or the JSON model it
   may answer instead) and its media types, `files={200: ("application/pdf",)}`.
3. Nothing else: `/api/v1/openapi.json` is generated from these declarations, and the tests
   (tests/api/test_openapi.py, tests/api/test_schemathesis.py) fail for a route under /api/v1
   without them, or for an answer its models do not describe.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from caseflow.extensions import csrf
from caseflow.models import User
from caseflow.services.errors import DomainError, Forbidden, Invalid, Unauthorized
from caseflow.services.tokens import user_for_token

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_PER_PAGE = 200


def error_response(status: int, code: str, message: str, fields: dict | None = None):  # noqa: ANN201
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return jsonify({"error": body}), status


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):  # noqa: ANN202
    headers = {"Retry-After": str(exc.retry_after)} if getattr(exc, "retry_after", None) else {}
    return jsonify(exc.to_json()), exc.status, headers


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):  # noqa: ANN202
    code = {
        400: "bad_request",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
        415: "unsupported_media_type",
    }.get(exc.code or 400, "error")
    return error_response(exc.code or 400, code, exc.description or exc.name)


def json_body() -> Any:
    """The request's JSON, or a 400 that says the body is malformed."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: malformed for us, not a 500
        data = None
    if data is None:
        raise DomainError("The body must be valid JSON (Content-Type: application/json)")
    bad = _bad_text(data)
    if bad:
        raise Invalid(bad)
    return data


# PostgreSQL text cannot hold U+0000, and no UTF-8 text can hold a lone UTF-16 surrogate (JSON's
# "\ud800" escape makes one): refuse both at the door, naming the field, not as a 500 later or
# a stored note that breaks the case page for good.
NUL_MESSAGE = "must not contain NUL (U+0000) characters"
SURROGATE_MESSAGE = "must be valid Unicode text (it holds a lone UTF-16 surrogate)"


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return NUL_MESSAGE
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_MESSAGE
    return None


def _bad_text(data: Any) -> dict[str, str]:
    """Where a JSON value holds text that cannot be stored, as field names ("child.full_name",
    "data.measures[0]") with why. A loop, not recursion: the body may be nested nearly as deep
    as the parser allows."""
    found: dict[str, str] = {}
    stack = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                found[path or "body"] = problem
        elif isinstance(value, dict):
            for key, item in value.items():
                key_problem = _text_problem(str(key))
                where = f"{path}.{key}" if path else str(key)
                if key_problem:
                    found[where.encode("utf-8", "backslashreplace").decode()] = key_problem
                else:
                    stack.append((item, where))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(value))
    return dict(sorted(found.items()))


@bp.before_request
def _refuse_nul_in_query() -> None:
    nul = {name: NUL_MESSAGE for name, value in request.args.items(multi=True) if "\x00" in name + value}
    if nul:
        raise Invalid(nul)


def current_user() -> User:
    return g.api_user


def require_auth(*roles: str) -> Callable:
    """Authenticate by bearer token; with `roles`, the caller's role must be one of them."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            user = user_for_token(token.strip()) if scheme.lower() == "bearer" and token else None
            if user is None:
                raise Unauthorized("A valid bearer token is required")
            if roles and user.role not in roles:
                raise Forbidden("Your role may not do this")
            g.api_user = user
            return view(*args, **kwargs)

        return wrapper

    return decorator


def pagination() -> tuple[int, int]:
    errors = {}
    values = {}
    for name, default, high in (("page", 1, 10**6), ("per_page", 50, MAX_PER_PAGE)):
        raw = request.args.get(name, str(default))
        try:
            value = int(raw)
            if not 1 <= value <= high:
                raise ValueError
            values[name] = value
        except ValueError:
            errors[name] = f"must be a whole number from 1 to {high}"
    if errors:
        raise Invalid(errors)
    return values["page"], values["per_page"]


def flag(name: str) -> bool:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return False
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise Invalid({name: "must be true or false"})


def page_json(items: list, total: int, page: int, per_page: int) -> dict:
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def _no_store(response: Response) -> Response:
    """API answers carry a child's identity and who works on the case: no browser, proxy or
    client library may keep them. On every /api/ path, unknown ones and errors included."""
    if request.path.startswith(bp.url_prefix + "/"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def init_app(app: Flask) -> None:
    from caseflow.api import (  # noqa: F401 - registers routes
        attachments,
        calendar,
        cases,
        forms,
        personal_data,
        reference,
        reports,
        spec,
        tasks,
        triggers,
    )

    app.extensions["caseflow_api_error"] = error_response  # what caseflow.security answers a 429 with

    triggers.init_app(app)  # each trigger's data model, from the loaded workflow file
    csrf.exempt(bp)  # bearer tokens are not sent by browsers on their own: no CSRF to defend
    app.register_blueprint(bp)
    app.after_request(_no_store)
