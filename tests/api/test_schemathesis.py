"""schemathesis against the served document, through the WSGI app, on each backend's data, with
an officer's and an admin's token: no answer is a 5xx, every status is documented, every body
matches its response model.

Bounded so that it runs in the normal command: deterministic generation (the same examples
every run: not a flaky suite), a fixed number of examples per operation and generation mode,
the coverage and stateful phases off. Generated values are steered towards the seeded world
(three in four ids, codes, versions and dates become real ones), because a random id is only
ever a 404 and a random commune code a 422: the answers worth checking come from real rows.
"""

from __future__ import annotations

import zlib
from collections import Counter
from datetime import UTC, datetime, timedelta

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from caseflow.extensions import db
from caseflow.models import Case
from caseflow.workflow import current_engine

EXAMPLES = 10  # per operation, generation mode and backend; each request sent with both tokens
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
CONFIG = schemathesis.Config.from_dict(
    {
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True},
    }
)
VERIFY_SERIOUS = {"risk_level": "high", "serious_harm": True, "caregiver_is_abuser": True, "findings": "Seen"}
SOON = (datetime.now(UTC) + timedelta(days=10)).isoformat()
# Field name -> real values of the seeded world, for the steering below.
REAL = {
    "incident_commune": ["A"],  # the officer's commune: elsewhere is a 403
    "residence_commune": ["B", "A", "C"],
    "org_unit": ["A", "P"],
    "parent": ["P", "D"],
    "agency": ["A-health", "A-police"],
    "date_of_birth": ["2016-05-01"],
    "received_at": [None],
    "due_at": [SOON],
    "valid_from": [None],
    "valid_to": [None],
    "start": ["2026-03-06T09:00:00+07:00"],
    "date": ["2026-03-09", "2026-02-17"],
}
# Operations whose success needs what generated data rarely hits (a fresh unique code, a
# strong password, a trigger the state allows with its data right): 4xx only is no failure.
RARELY_SUCCEED = {
    "POST /agencies",
    "POST /org-units",
    "POST /users",
    "POST /auth/token",
    "POST /tasks/{task_id}/complete",
    "GET /calendar/due",
}
# Routes added with the forms, reports, personal-data and merger work: the run still checks them
# for 5xx and conformance, but does not steer them to success yet (the officer and the admin may
# not export, read the access log or the ad-hoc reports; the others need a seeded attachment,
# document name, form code, obligation or unit to merge).
NOT_YET_STEERED = {
    "GET /cases/{case_id}/access-log",
    "GET /cases/{case_id}/export",
    "GET /reports/adhoc",
    "GET /cases/{case_id}/attachments/{attachment_id}",
    "GET /cases/{case_id}/attachments",
    "POST /cases/{case_id}/attachments",
    "GET /cases/{case_id}/documents/{name}",
    "GET /cases/{case_id}/forms/{code}/revisions",
    "PUT /cases/{case_id}/forms/{code}",
    "GET /reports/periodic",
    "GET /reports/obligations",
    "POST /reports/obligations/{obligation_id}/submit",
    "POST /cases/{case_id}/child/corrections",
    "POST /cases/{case_id}/disclosures",
    "POST /org-units/{code}/merge",
}


def _plan() -> dict:
    return {
        "plan": "Support",
        "measures": [{"agency": "A-health", "description": "Check-up", "due_at": SOON}],
    }


def seed(open_case, fire) -> dict:
    """Cases in each kind of state, with open, done and cancelled tasks, in the officer's commune."""
    received = open_case()
    verified = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_SERIOUS)
    planned = fire(
        fire(open_case(), "verify", "officer_a@test.vn", VERIFY_SERIOUS),
        "submit_plan",
        "officer_a@test.vn",
        _plan(),
    )
    acting = fire(planned, "approve_plan", "chair_a@test.vn")
    closed = fire(open_case(), "dismiss", "officer_a@test.vn", {"reason": "Unfounded"})
    open_case("B")
    cases = [received, verified, acting, closed]
    return {"case_id": [c["id"] for c in cases], "task_id": [t["id"] for c in cases for t in c["tasks"]]}


def _pick(value: object, pool: list, always: bool) -> tuple[bool, object]:
    """A real value instead of the generated one: always for valid data (a generator's favourite
    small values would otherwise keep missing), three times in four for invalid data; chosen by
    the generated value itself, so that runs repeat."""
    digest = zlib.crc32(repr(value).encode())
    return always or digest % 4 != 0, pool[digest % len(pool)]


def _steer(value: object, always: bool) -> object:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            steer, real = (
                _pick(item, REAL[key], always)
                if key in REAL and isinstance(item, str | None)
                else (False, None)
            )
            out[key] = real if steer else _steer(item, always)
        return {k: v for k, v in out.items() if v is not None or k not in REAL}
    if isinstance(value, list):
        return [_steer(item, always) for item in value]
    return value


def _steer_case(case, seeded: dict, always: bool) -> None:
    params = case.path_parameters or {}
    for name in params:
        pool = seeded.get(name) or REAL.get(name)
        if pool:
            steer, real = _pick(params[name], pool, always)
            if steer:
                params[name] = real
    if isinstance(case.query, dict):
        case.query = _steer(case.query, always)
    if isinstance(case.body, dict):
        case.body = _steer(case.body, always)
        _steer_transition(case, params, seeded, always)
    db.session.rollback()  # no transaction left open between requests


def _steer_transition(case, params: dict, seeded: dict, always: bool) -> None:
    """Mostly a case whose state allows the generated trigger, at its current version."""
    if params.get("case_id") not in seeded["case_id"] or not isinstance(case.body.get("version"), int):
        return
    transition = current_engine().definition.transitions.get(case.body.get("trigger"))
    rows = [db.session.get(Case, i) for i in seeded["case_id"]]
    fitting = [row for row in rows if transition is not None and row.state in transition.source]
    steer, row = _pick(case.body["version"], fitting or rows, always)
    if steer:
        params["case_id"] = row.id
        case.body["version"] = row.version


def _run(operation, mode: GenerationMode, tokens: list[str], seeded: dict, answers: Counter) -> None:
    # A loop of our own rather than schemathesis.pytest: its pytest plugin reads a node
    # attribute pytest 9 no longer has. The strategies, the checks and the document are its own.
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        _steer_case(case, seeded, always=mode is GenerationMode.POSITIVE)
        for token in tokens:  # each generated request as each role: half the generating
            response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
            answers[operation.label, response.status_code // 100] += 1

    run()


def test_the_api_answers_an_officer_and_an_admin_as_its_document_says(app, api, open_case, fire):
    seeded = seed(open_case, fire)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)
    tokens = [api.token("officer_a@test.vn"), api.token("admin@test.vn")]
    operations = [result.ok() for result in schema.get_all_operations()]
    answers: Counter = Counter()
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _run(operation, mode, tokens, seeded, answers)
            except Exception as exc:  # noqa: BLE001 - every operation's failure, reported together
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
    # The run reached real work, not only refusals: each operation succeeded at least once.
    missed = {op.label for op in operations if not answers[op.label, 2]} - RARELY_SUCCEED - NOT_YET_STEERED
    assert not missed, sorted(missed)
