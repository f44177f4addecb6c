"""Notification tests send in-process (no Redis) to the real SMTP server of the test process."""

from __future__ import annotations

import pytest


@pytest.fixture
def inprocess_mail(smtp_server) -> dict:
    return {
        "REDIS_URL": None,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_TIMEOUT": 10,
        "SWEEP_GRACE_SECONDS": 0,
    }
