"""Sign-in, tokens and emailed links are rate-limited; failures slow one address, never the owner.

Before: 100 failed sign-ins in 0.6 s with no 429, and five wrong passwords let anyone lock a
chair out for 15 minutes, again and again.
"""

from __future__ import annotations

import time

import pytest

from caseflow.services import throttle
from tests.conftest import PASSWORD
from tests.web.conftest import Browser


@pytest.fixture
def app_config() -> dict:
    return {
        "RATELIMIT_ENABLED": True,
        "CASEFLOW_SIGNIN_LIMIT": "8 per minute",
        "CASEFLOW_SIGNIN_ACCOUNT_LIMIT": "12 per hour",
        "CASEFLOW_LINK_LIMIT": "5 per minute",
    }


def _browser(app, address: str) -> Browser:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Browser(client)


def test_token_requests_past_the_limit_get_429_with_retry_after_in_the_contract_shape(app, client, world):
    statuses = []
    for i in range(10):  # another email each time: the address's limit, not the per-account delay
        resp = client.post("/api/v1/auth/token", json={"email": f"nobody{i}@test.vn", "password": "x" * 12})
        statuses.append(resp.status_code)
    assert statuses[:8] == [401] * 8 and statuses[8:] == [429, 429]
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.get_json()["error"]["code"] == "rate_limited"


def test_sign_in_page_past_the_limit_answers_429_with_retry_after(app, world):
    browser = _browser(app, "10.1.1.1")
    answers = [browser.login(f"nobody{i}@test.vn", "wrong-wrong-wrong") for i in range(9)]
    statuses = [a.status_code for a in answers]
    assert statuses[-1] == 429 and 429 not in statuses[:8]
    assert int(answers[-1].headers["Retry-After"]) >= 1


def test_failures_slow_down_the_guessing_address_but_not_the_owner_elsewhere(app, world):
    stranger = _browser(app, "10.9.9.9")
    for _ in range(3):
        assert stranger.login("chair_a@test.vn", "guess-guess-guess").status_code == 401
    held = stranger.login("chair_a@test.vn", "guess-guess-guess")
    assert held.status_code == 429 and int(held.headers["Retry-After"]) >= 1
    assert "Wait" in held.get_data(as_text=True) or "Chờ" in held.get_data(as_text=True)
    # Two failures more (4 s to wait), so that a slow machine cannot outlast the delay.
    with app.test_request_context():
        for _ in range(2):
            throttle.failed("chair_a@test.vn", "10.9.9.9")
    # Even the right password waits from the guessing address...
    assert stranger.login("chair_a@test.vn", PASSWORD).status_code == 429
    # ...while the owner at their own desk signs in at once.
    owner = _browser(app, "10.0.0.1")
    assert owner.login("chair_a@test.vn").status_code == 302


def test_the_delay_grows_with_each_failure_and_is_capped():
    assert [throttle.delay_for(n) for n in range(1, 8)] == [0, 0, 1, 2, 4, 8, 16]
    assert throttle.delay_for(50) == throttle.MAX_DELAY_SECONDS


def test_a_success_clears_the_address_failures(app, world):
    browser = _browser(app, "10.2.2.2")
    assert browser.login("officer_a@test.vn", "guess-guess-guess").status_code == 401
    assert browser.login("officer_a@test.vn", "guess-guess-guess").status_code == 401
    assert browser.login("officer_a@test.vn").status_code == 302
    assert throttle.wait_seconds("officer_a@test.vn", "10.2.2.2") == 0


def test_the_per_account_limit_spares_an_address_the_owner_signed_in_from(app, world):
    owner = _browser(app, "10.0.0.2")
    assert owner.login("officer_b@test.vn").status_code == 302
    # Failures from many addresses (a distributed guess) use up the account's limit...
    for i in range(12):
        assert _browser(app, f"10.5.0.{i}").login("officer_b@test.vn", "guess-guess-guess").status_code == 401
    assert _browser(app, "10.5.1.1").login("officer_b@test.vn", "guess-guess-guess").status_code == 429
    # ...but the owner's own address still gets in.
    assert _browser(app, "10.0.0.2").login("officer_b@test.vn").status_code == 302


def test_emailed_links_are_rate_limited_per_address(app, client, world):
    statuses = [client.get(f"/actions/not-a-token-{i}").status_code for i in range(6)]
    assert statuses[-1] == 429 and 429 not in statuses[:5]


def test_unknown_and_known_emails_take_the_same_time(app, client, world):
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    from caseflow.extensions import db
    from caseflow.models import User

    user = db.session.get(User, world.users["officer_a"].id)
    user.set_password(PASSWORD)
    db.session.commit()

    def timed(email: str) -> float:
        start = time.perf_counter()
        for i in range(3):
            client.environ_base["REMOTE_ADDR"] = f"10.7.{len(email)}.{i}"
            client.post("/api/v1/auth/token", json={"email": email, "password": "wrong-password-x"})
        return (time.perf_counter() - start) / 3

    known, unknown = timed("officer_a@test.vn"), timed("nobody-at-all@test.vn")
    assert unknown > known * 0.5, (known, unknown)  # before: 5 ms against 109 ms
