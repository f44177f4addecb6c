"""Where the limits count (Redis when REDIS_URL is set, shared by every process; memory otherwise)
and whose address they count (X-Forwarded-For only behind a proxy the settings trust)."""

from __future__ import annotations

import pytest
from limits.storage import MemoryStorage, RedisStorage

from caseflow import create_app
from caseflow.security import limiter_of
from caseflow.services import throttle
from tests.conftest import TEST_CONFIG
from tests.jobs.conftest import queue_prefix, redis_url  # noqa: F401 - fixtures

LIMITS = {"RATELIMIT_ENABLED": True, "CASEFLOW_SIGNIN_LIMIT": "4 per minute"}


@pytest.fixture
def backend() -> str:
    return "sqlite"


def _second_app(app, **config):
    """Another process's app on the same database and settings (a second web worker)."""
    other = create_app(
        {**TEST_CONFIG, **LIMITS, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], **config}
    )
    return other


def _body(i: int) -> dict:
    # Another account each time: the address's limit, not the per-(account, address) delay.
    return {"email": f"nobody{i}@test.vn", "password": "x" * 12}


def _tries(app, n: int, address: str = "10.3.3.3") -> list[int]:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return [client.post("/api/v1/auth/token", json=_body(i)).status_code for i in range(n)]


class TestWithRedis:
    @pytest.fixture
    def app_config(self, redis_url, queue_prefix) -> dict:  # noqa: F811
        return {**LIMITS, "REDIS_URL": redis_url, "CASEFLOW_QUEUE_PREFIX": queue_prefix}

    def test_two_apps_on_one_redis_share_the_count(self, app, world, app_config):
        other = _second_app(app, **app_config)
        assert isinstance(limiter_of(app).storage, RedisStorage)
        assert isinstance(limiter_of(other).storage, RedisStorage)
        assert _tries(app, 2) == [401, 401]
        assert _tries(other, 2) == [401, 401]
        # The fifth try of this address, whichever process answers it, is over "4 per minute".
        assert _tries(app, 1) == [429]
        assert _tries(other, 1) == [429]

    def test_sign_in_delays_count_across_apps_too(self, app, world, app_config):
        other = _second_app(app, **app_config)
        for target in (app, other, app):
            with target.app_context():
                throttle.failed("chair_a@test.vn", "10.4.4.4")
        with other.app_context():
            assert throttle.wait_seconds("chair_a@test.vn", "10.4.4.4") >= 1


class TestWithoutRedis:
    @pytest.fixture
    def app_config(self) -> dict:
        return LIMITS

    def test_each_app_counts_in_its_own_memory(self, app, world):
        other = _second_app(app)
        assert isinstance(limiter_of(app).storage, MemoryStorage)
        assert limiter_of(other).storage is not limiter_of(app).storage
        assert _tries(app, 4) == [401] * 4
        assert _tries(other, 4) == [401] * 4  # not shared: the embedded demo is one process
        assert _tries(app, 1) == [429]

    def test_without_a_trusted_proxy_a_forged_forwarded_address_does_not_dodge_the_limit(self, app, world):
        client = app.test_client()
        statuses = [
            client.post(
                "/api/v1/auth/token", json=_body(i), headers={"X-Forwarded-For": f"198.51.100.{i}"}
            ).status_code
            for i in range(5)
        ]
        assert statuses == [401] * 4 + [429]
        page = client.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" not in page.headers


class TestBehindAProxy:
    @pytest.fixture
    def app_config(self) -> dict:
        return {**LIMITS, "CASEFLOW_PROXY_FIX_X_FOR": 1, "CASEFLOW_PROXY_FIX_X_PROTO": 1}

    def test_the_forwarded_address_is_limited_and_https_is_seen(self, app, world):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "127.0.0.1"  # the proxy
        first = [
            client.post(
                "/api/v1/auth/token", json=_body(i), headers={"X-Forwarded-For": "203.0.113.1"}
            ).status_code
            for i in range(5)
        ]
        assert first == [401] * 4 + [429]
        # Another client behind the same proxy has its own count.
        other = client.post("/api/v1/auth/token", json=_body(9), headers={"X-Forwarded-For": "203.0.113.2"})
        assert other.status_code == 401
        secure = client.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" in secure.headers
