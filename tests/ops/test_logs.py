"""JSON log lines carry the request, the user and the route, and never a child or a link token."""

from __future__ import annotations

import io
import json
import logging

import pytest


@pytest.fixture
def app_config():
    return {"CASEFLOW_LOG_JSON": True, "CASEFLOW_LOG_REQUESTS": True}


@pytest.fixture
def json_log(app):
    """What the JSON handler writes during the test; the root logger is put back afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    handler = next(h for h in root.handlers if getattr(h, "caseflow_json", False))
    stream = io.StringIO()
    handler.setStream(stream)
    yield stream
    root.handlers, root.level = saved


def test_a_request_is_one_json_line_with_its_ids_and_route(app, world, api, open_case, json_log):
    case = open_case("A")
    detail = api.get(f"/api/v1/cases/{case['id']}", world.email("officer_a"))
    request_id = detail.headers["X-Request-ID"]
    lines = [json.loads(line) for line in json_log.getvalue().splitlines() if line.strip()]
    mine = next(
        line for line in lines if line.get("message") == "request" and line["request_id"] == request_id
    )
    assert mine["route"] == f"/api/v1/cases/{case['id']}"
    assert mine["status"] == 200 and mine["method"] == "GET" and mine["duration_ms"] >= 0
    assert mine["user_id"] == world.users["officer_a"].id
    assert mine["level"] == "INFO" and "time" in mine
    text = json_log.getvalue()
    assert "Bé Thử Nghiệm" not in text and "Thôn 1" not in text and "0900000000" not in text


def test_an_emailed_link_token_never_reaches_the_log(app, client, json_log):
    client.get("/actions/secret-token-value-1234567890?lang=vi")
    text = json_log.getvalue()
    assert "secret-token-value" not in text
    line = next(json.loads(x) for x in text.splitlines() if '"request"' in x)
    assert line["route"] == "/actions/[redacted]"


def test_a_proxy_request_id_is_kept_and_a_forged_one_replaced(app, client, json_log):
    kept = client.get("/healthz", headers={"X-Request-ID": "req-1234abcd"})
    assert kept.headers["X-Request-ID"] == "req-1234abcd"
    forged = client.get("/healthz", headers={"X-Request-ID": 'x", "level": "CRITICAL'})
    assert "CRITICAL" not in forged.headers["X-Request-ID"]
    assert len(forged.headers["X-Request-ID"]) == 16
