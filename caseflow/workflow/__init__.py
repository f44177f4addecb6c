"""The procedure engine: definition loading, the state machine and the two clocks."""

from __future__ import annotations

from flask import Flask, current_app

from caseflow.workflow.engine import Engine, engine_for


def init_app(app: Flask) -> None:
    # Load and validate at start-up: a broken definition must stop the app, not a case.
    app.extensions["caseflow_engine"] = engine_for(app.config["CASEFLOW_WORKFLOW"])


def current_engine() -> Engine:
    return current_app.extensions["caseflow_engine"]
