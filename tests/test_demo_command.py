"""The README's first command ends in `flask caseflow demo`: it must really serve pages."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_command_serves_the_app_on_the_embedded_default(tmp_path):
    env = {**os.environ, "FLASK_APP": "wsgi", "CASEFLOW_INSTANCE_PATH": str(tmp_path)}
    for name in ("DATABASE_URL", "REDIS_URL", "MAIL_SERVER"):
        env.pop(name, None)
    flask = [sys.executable, "-m", "flask"]
    subprocess.run([*flask, "caseflow", "init-db"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [*flask, "caseflow", "demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline, status = time.monotonic() + 30, None
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    status, body = resp.status, resp.read().decode()
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                time.sleep(0.3)
        assert status == 200 and '"queue":"inline"' in body.replace(" ", "")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as resp:
            assert resp.status == 200 and "CaseFlow" in resp.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=10)
