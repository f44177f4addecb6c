"""The procedure engine: definition loading, the state machine and the two clocks."""

from __future__ import annotations

from flask import Flask, current_app

from caseflow.workflow.engine import Engine, engine_for
from caseflow.workflow.forms import FormCatalog, forms_for


def init_app(app: Flask) -> None:
    # Load and validate at start-up: a broken definition must stop the app, not a case.
    app.extensions["caseflow_engine"] = engine = engine_for(app.config["CASEFLOW_WORKFLOW"])
    app.extensions["caseflow_forms"] = forms_for(app.config["CASEFLOW_WORKFLOW"], engine.definition)


def current_engine() -> Engine:
    return current_app.extensions["caseflow_engine"]


def current_forms() -> FormCatalog:
    return current_app.extensions["caseflow_forms"]
