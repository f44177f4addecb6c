"""The worker's cron anchors the trail on its own when CASEFLOW_ANCHOR_DIR is set."""

from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.redis

KEY = "the-anchor-key-of-the-worker-test"


@pytest.fixture
def app_config(mail_config, tmp_path):
    return {
        **mail_config,
        "SCAN_INTERVAL_SECONDS": 60,
        "CASEFLOW_ANCHOR_DIR": str(tmp_path / "anchors"),
        "CASEFLOW_ANCHOR_KEY": KEY,
    }


def test_the_worker_anchors_on_schedule_and_the_anchors_verify(app, runner, world, open_case, worker):
    open_case("A")
    anchors = app.config["CASEFLOW_ANCHOR_DIR"] + "/audit-anchors.jsonl"
    worker.env.update(
        {
            "CASEFLOW_ANCHOR_DIR": app.config["CASEFLOW_ANCHOR_DIR"],
            "CASEFLOW_ANCHOR_KEY": KEY,
            "CASEFLOW_ANCHOR_INTERVAL_SECONDS": "1",
        }
    )
    worker.start()
    deadline = time.monotonic() + 90
    lines: list[str] = []
    while len(lines) < 2:
        try:
            lines = open(anchors).read().splitlines()
        except FileNotFoundError:
            pass
        assert time.monotonic() < deadline, worker.logs()
        time.sleep(0.2)
    first = json.loads(lines[0])
    assert first["cases"] == 1 and len(first["changed"]) == 1
    result = runner.invoke(args=["caseflow", "verify-audit", "--anchor", anchors])
    assert result.exit_code == 0, result.output
