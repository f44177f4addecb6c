"""Each endpoint's models in one decorator: the OpenAPI document is generated from them, and
the request is checked against the same models, answering in the contract's error shape.

Why spectree, and only half of it: spectree reads pydantic v2 models and Flask's url_map and
builds the document (paths, parameters from the query model, bodies, responses, components)
with no framework change, which is what we want. Its runtime wrapper is not: it answers a bad
request with pydantic's own error list instead of `{"error": {"code", "message", "fields"}}`,
turns malformed JSON into `{}` (a 422 where the contract says 400), and validates and
re-serialises every response, a cost the transition hot path must not pay. So `endpoint()`
gives spectree the models with `skip_validation` (for the document only) and wraps the view
in a check of its own that uses the same models: the query first, then the JSON body, after
the bearer token was checked (the decorator sits below `require_auth`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import Flask, current_app, g, jsonify, request
from pydantic import BaseModel, ValidationError
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree

from caseflow.api import bp, json_body
from caseflow.api.schemas import Error
from caseflow.services.errors import Invalid
from caseflow.workflow import current_engine
from caseflow.workflow.definition import WorkflowDefinition

SPEC = SpecTree(
    "flask",
    mode="strict",  # only views declared with endpoint(): the web pages are not API
    annotations=False,
    title="CaseFlow API",
    version="1",
    openapi_version="3.1.0",
    security_schemes=[SecurityScheme(name="bearer", data=SecuritySchemeData(type="http", scheme="bearer"))],
    security={"bearer": []},
    validation_error_model=Error,  # the contract's shape, not spectree's own, for every 422
    naming_strategy=lambda model: model.__name__,  # model names are unique in caseflow/api
    nested_naming_strategy=lambda _parent, child: child,
)

# Statuses each kind of endpoint can always answer, documented without being listed each time.
AUTH_ERRORS = (401,)
BODY_ERRORS = (400, 413, 422)  # 413: over MAX_CONTENT_LENGTH
QUERY_ERRORS = (422,)

# Refines an operation of the document for the app's loaded workflow definition (for example
# the transition body, whose `data` depends on the triggers the YAML declares).
Refine = Callable[[dict, dict, WorkflowDefinition], None]


def endpoint(
    *,
    ok: dict[int, type[BaseModel] | None],
    json: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    form: type[BaseModel] | None = None,
    errors: Iterable[int] = (),
    auth: bool = True,
    refine: Refine | None = None,
    check: bool = True,
    files: dict[int, tuple[str, ...]] | None = None,
) -> Callable:
    """Declare an API view's models: `ok` maps each success status to its body model (None: no
    body), `errors` the error statuses it can answer beyond the ones implied (401 with auth,
    400, 413 and 422 with a body, 422 with a query). The view reads the checked body with `body()`,
    the plain JSON the services take, and the checked query from `request.args` as before.
    `form=` declares a multipart body (files typed `schemas.File`): checked the same way, read
    from `request.form` and `request.files`.
    `check=False` documents the body without checking it (the view reads `json_body()`, or the
    form once it has set its own size limit).
    `files` maps a success status to the media types of the file it may answer with (a PDF,
    an XLSX): documented as binary content beside the JSON model, if that status has one."""
    codes = set(errors) | set(AUTH_ERRORS if auth else ())
    codes |= set(BODY_ERRORS if json and check else (400, 413) if json else ())
    codes |= set(QUERY_ERRORS if query else ()) | set(BODY_ERRORS if form else ())
    models: dict[str, Any] = {f"HTTP_{status}": model for status, model in ok.items()}
    models.update({f"HTTP_{status}": Error for status in sorted(codes)})
    plain = [name for name, model in models.items() if model is None]
    responses = Response(*plain, **{name: m for name, m in models.items() if m is not None})

    def decorate(view: Callable) -> Callable:
        documented = SPEC.validate(
            json=json,
            query=query,
            form=form,
            resp=responses,
            skip_validation=True,
            security=None if auth else {},
        )(view)

        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if query is not None:
                _check_query(query)
            if json is not None and check:
                g.api_body = checked_body(json)
            if form is not None and check:
                _check_form(form)
            return view(*args, **kwargs)

        checked.__wrapped__ = documented  # spectree finds its metadata along the __wrapped__ chain
        checked.api_refine = refine  # type: ignore[attr-defined]
        checked.api_files = files or {}  # type: ignore[attr-defined]
        return checked

    return decorate


def body() -> Any:
    """The request's JSON object, already checked against the endpoint's model."""
    return g.api_body


def checked_body(model: type[BaseModel], data: Any = None, prefix: str = "") -> Any:
    """`data` (default: the request's JSON, 400 if malformed) checked against `model`: a 422
    naming each bad field by its path, `prefix` first (`data.` for a trigger's data)."""
    if data is None:
        data = json_body()
    if not isinstance(data, dict):
        raise Invalid({prefix.rstrip(".") or "body": "must be a JSON object"})
    try:
        model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(field_errors(exc, prefix)) from None
    return data


def _check_query(model: type[BaseModel]) -> None:
    # An empty parameter (`?state=`) means "not given", as the views have always read it.
    args = {name: value for name, value in request.args.items() if value != ""}
    try:
        model.model_validate(args)
    except ValidationError as exc:
        raise Invalid(field_errors(exc)) from None


def _check_form(model: type[BaseModel]) -> None:
    values: dict[str, Any] = dict(request.form.items())
    values.update(request.files.items())
    try:
        model.model_validate(values)
    except ValidationError as exc:
        raise Invalid(field_errors(exc)) from None


# An error on an item of a list of plain values names the list, as the services do
# ("harm_types"); an item that must be an object keeps its index ("data.measures[0]").
_OBJECT_ERRORS = {"model_type", "model_attributes_type", "dict_type"}


def field_errors(exc: ValidationError, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        if loc and isinstance(loc[-1], int) and err["type"] not in _OBJECT_ERRORS:
            loc.pop()
        path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
        out.setdefault(prefix + path if path else prefix.rstrip(".") or "body", _why(err))
    return out


def _expected(ctx: dict) -> str:
    return re.sub(r"'", "", str(ctx.get("expected", ""))).replace(" or ", ", ")


_WHY: dict[str, Callable[[dict], str]] = {
    "missing": lambda ctx: "is required",
    "string_type": lambda ctx: "must be a string",
    "bool_type": lambda ctx: "must be true or false",
    "bool_parsing": lambda ctx: "must be true or false",
    "int_type": lambda ctx: "must be a whole number",
    "int_parsing": lambda ctx: "must be a whole number",
    "int_from_float": lambda ctx: "must be a whole number",
    "greater_than_equal": lambda ctx: f"must be at least {ctx.get('ge')}",
    "less_than_equal": lambda ctx: f"must be at most {ctx.get('le')}",
    "string_too_short": lambda ctx: (
        "must not be empty"
        if ctx.get("min_length") == 1
        else f"must be at least {ctx.get('min_length')} characters"
    ),
    "string_too_long": lambda ctx: f"must be at most {ctx.get('max_length')} characters",
    "literal_error": lambda ctx: (
        f"must be one of: {_expected(ctx)}" if "," in _expected(ctx) else f"must be {_expected(ctx).lower()}"
    ),
    "model_type": lambda ctx: "must be an object",
    "model_attributes_type": lambda ctx: "must be an object",
    "dict_type": lambda ctx: "must be an object",
    "list_type": lambda ctx: "must be a list",
    "too_short": lambda ctx: f"must have at least {ctx.get('min_length')} item(s)",
    "too_long": lambda ctx: f"must have at most {ctx.get('max_length')} items",
}


def _why(err: dict) -> str:
    explain = _WHY.get(err["type"])
    if explain is not None:
        return explain(err.get("ctx") or {})
    message = str(err["msg"])
    return message[:1].lower() + message[1:]


# -- the document ------------------------------------------------------------------------------------


def document(app: Flask) -> dict:
    """The OpenAPI document of `app` (its routes and its workflow definition), built once."""
    doc = app.extensions.get("caseflow_openapi")
    if doc is None:
        doc = app.extensions["caseflow_openapi"] = _generate(app)
    return doc


def _generate(app: Flask) -> dict:
    # spectree lifts nested models out of its registry while generating: generate from a copy,
    # so every app (tests build many) gets the whole document.
    saved = copy.deepcopy(SPEC.models)
    try:
        spec = SPEC._generate_spec()  # noqa: SLF001 - its `spec` property caches for one app only
    finally:
        SPEC.models = saved
    prefix = bp.url_prefix or ""
    spec["servers"] = [{"url": prefix}]
    spec["paths"] = {
        path[len(prefix) :]: ops
        for path, ops in sorted(spec["paths"].items())
        if path.startswith(prefix + "/")
    }
    for ops in spec["paths"].values():
        for op in ops.values():
            for param in op.get("parameters", []):
                _not_null(param)
    components = spec["components"]["schemas"]
    definition = current_engine().definition
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        refine, files = getattr(view, "api_refine", None), getattr(view, "api_files", None)
        if refine is None and not files:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)[len(prefix) :]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            op = spec["paths"][path][method.lower()]
            for status, media_types in (files or {}).items():
                _add_files(op["responses"][str(status)], media_types)
            if refine is not None:
                refine(op, components, definition)
    return spec


def _add_files(response: dict, media_types: tuple[str, ...]) -> None:
    """A file answer: its bytes under each media type it may have, and how it is named."""
    content = response.setdefault("content", {})
    for media_type in media_types:
        content[media_type] = {"schema": {"type": "string", "format": "binary"}}
    response.setdefault("headers", {})["Content-Disposition"] = {
        "description": "attachment; the file name (the case reference or the unit, never a child's name)",
        "schema": {"type": "string"},
    }


def _not_null(param: dict) -> None:
    """A query parameter is absent or a value: the `null` of an optional field cannot be sent."""
    schema = param["schema"]
    kinds = [k for k in schema.get("anyOf", ()) if k != {"type": "null"}]
    if "anyOf" in schema and len(kinds) == 1:
        del schema["anyOf"]
        schema.update(kinds[0])
    if "default" in schema and schema["default"] is None:
        del schema["default"]


def add_model(components: dict, model: type[BaseModel]) -> dict:
    """Put `model` and the models it uses into the document's components; return its $ref."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def served_document() -> dict:
    return document(current_app._get_current_object())  # noqa: SLF001 - the app, not its proxy


@bp.get("/openapi.json")
@endpoint(ok={200: None}, auth=False)
def openapi():  # noqa: ANN201
    """This document (OpenAPI 3.1), generated from the models in caseflow/api/schemas.py"""
    return jsonify(served_document())
