"""The small findings: a case "received in 1899", headers, /healthz counts for strangers."""

from __future__ import annotations

from tests.conftest import new_case_payload


def test_a_report_received_before_decree_56_is_a_422(api, world):
    for moment in ("1899-05-01T08:00:00+07:00", "2017-06-30T23:59:00+07:00"):
        resp = api.post("/api/v1/cases", "officer_a@test.vn", json=new_case_payload("A", received_at=moment))
        assert resp.status_code == 422, moment
        assert "received_at" in resp.get_json()["error"]["fields"]
    ok = api.post(
        "/api/v1/cases",
        "officer_a@test.vn",
        json=new_case_payload("A", received_at="2017-07-01T00:00:00+07:00"),
    )
    assert ok.status_code == 201


def test_pages_refuse_framing_and_powerful_features_and_https_gets_hsts(client, world):
    plain = client.get("/login")
    assert plain.headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in plain.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in plain.headers
    secure = client.get("/login", base_url="https://caseflow.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_healthz_shows_counts_only_to_the_machine_and_signed_in_callers(app, api, world):
    stranger = app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    body = stranger.get("/healthz").get_json()
    assert body["status"] in ("ok", "degraded") and body["database"] == "ok"
    assert "failed_notifications" not in body and "disk" not in body
    token = api.token("officer_a@test.vn")
    detailed = stranger.get("/healthz", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert "failed_notifications" in detailed
    assert "failed_notifications" in app.test_client().get("/healthz").get_json()  # loopback
