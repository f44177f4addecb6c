"""The stack as the README's Production paragraph deploys it, end to end: gunicorn (2 processes x
4 threads) on PostgreSQL, an RQ worker on Redis, a real SMTP server; and check-config's verdicts."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.error import HTTPError

import pytest

from tests.conftest import PASSWORD, ROOT, new_case_payload

pytestmark = pytest.mark.redis


@pytest.fixture
def app_config(mail_config):
    return {**mail_config, "SCAN_INTERVAL_SECONDS": 2}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(base: str, method: str, path: str, body: dict | None = None, token: str | None = None):
    request = urllib.request.Request(
        base + path, method=method, data=json.dumps(body).encode() if body else None
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read())
    except HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def gunicorn(app, worker, backend):
    if backend != "postgres":
        pytest.skip("production runs on PostgreSQL")
    port = _port()
    env = {**worker.env, "CASEFLOW_BASE_URL": f"http://127.0.0.1:{port}"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "2",
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):  # noqa: S310 - loopback only
                break
        except OSError:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "gunicorn did not come up"
            time.sleep(0.3)
    yield base, env
    os.killpg(process.pid, 15)
    process.wait(20)


def test_the_deployed_stack_takes_a_report_and_mails_the_commune(gunicorn, world, worker, smtp_server):
    base, env = gunicorn
    check = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "caseflow", "check-config"],
        cwd=ROOT,
        env={**env, "SECRET_KEY": "a-production-secret"},
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr  # PostgreSQL, Redis and SMTP: nothing fatal
    worker.start()
    status, health = _call(base, "GET", "/healthz")
    assert status == 200 and health["database"] == "ok" and health["queue"] == "ok"
    status, body = _call(
        base, "POST", "/api/v1/auth/token", {"email": world.email("officer_a"), "password": PASSWORD}
    )
    assert status == 200
    token = body["token"]
    status, case = _call(base, "POST", "/api/v1/cases", new_case_payload("A"), token)
    assert status == 201, case
    status, verified = _call(
        base,
        "POST",
        f"/api/v1/cases/{case['id']}/transitions",
        {
            "trigger": "verify",
            "version": case["version"],
            "data": {
                "risk_level": "high",
                "serious_harm": True,
                "caregiver_is_abuser": False,
                "findings": "Có thương tích",
            },
        },
        token,
    )
    assert status == 200, verified
    assert verified["state"] == "verified"
    # The verify task's mail to the commune committee and the emergency tasks' to police and health.
    wanted = {"commune_committee.a@agency.test", "police.a@agency.test", "health.a@agency.test"}
    deadline = time.monotonic() + 60
    while not wanted <= {r for rs, _ in smtp_server.messages for r in rs}:
        assert time.monotonic() < deadline, (smtp_server.messages, worker.logs())
        time.sleep(0.3)
    mails = list(smtp_server.messages)
    assert all(case["reference"] in m["Subject"] for _, m in mails)
    assert not any("Bé Thử Nghiệm" in m.as_string() for _, m in mails)
