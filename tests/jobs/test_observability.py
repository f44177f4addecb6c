"""What an operator watches: /metrics and /healthz after a real worker's scan."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.redis


def _scrape(client, **kwargs) -> dict[tuple, float]:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples, name, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


@pytest.fixture
def app_config(mail_config):
    return {**mail_config, "SCAN_INTERVAL_SECONDS": 1}


def test_metrics_show_the_register_and_the_last_scan_after_a_real_worker_scans(
    app, client, open_case, world, worker, smtp_server
):
    received = datetime.now(UTC) - timedelta(hours=13)
    open_case("A", received_at=received.isoformat())
    before = _scrape(client)
    assert _value(before, "caseflow_overdue_tasks") == 1
    assert _value(before, "caseflow_scan_last_success_timestamp_seconds") == 0
    started = time.time()
    worker.start()  # its cron enqueues the scan at once, then every second
    deadline = time.monotonic() + 60
    while True:
        after = _scrape(client)
        if _value(after, "caseflow_scan_last_success_timestamp_seconds") >= started:
            break
        assert time.monotonic() < deadline, worker.logs()
        time.sleep(0.5)
    assert _value(after, "caseflow_scan_duration_seconds") > 0
    assert _value(after, "caseflow_queue_depth", queue="mail") is not None
    assert _value(after, "caseflow_failed_notifications") == 0
    # The case was opened through the API: its latency is counted by endpoint, never by path.
    posted = [k for k in after if k[0] == "caseflow_http_request_duration_seconds_count"]
    assert any(
        dict(labels).get("method") == "POST" and dict(labels)["status"] == "201" for _, labels in posted
    )
    assert not any("/api/v1/cases/" in str(labels) for _, labels in posted)
    health = client.get("/healthz").get_json()
    assert health["scan"]["last_success_age_seconds"] is not None
    assert "scan_stale" not in health.get("warnings", [])


def test_metrics_answer_only_loopback_or_the_token(app, client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 404
    app.config["CASEFLOW_METRICS_TOKEN"] = "scrape-secret"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    ok = client.get(
        "/metrics",
        headers={"Authorization": "Bearer scrape-secret"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert ok.status_code == 200 and b"caseflow_overdue_tasks" in ok.data
