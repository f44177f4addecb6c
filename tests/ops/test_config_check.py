"""check-config names each demo default that must not reach production."""

from __future__ import annotations

import pytest

from caseflow.services.config_check import check_production


@pytest.mark.parametrize(
    ("settings", "environ", "fatal"),
    [
        (
            {
                "SQLALCHEMY_DATABASE_URI": "sqlite:////srv/caseflow.db",
                "MAIL_SERVER": "smtp",
                "REDIS_URL": "redis://",
            },
            {"SECRET_KEY": "k"},
            {"DATABASE_URL"},
        ),
        (
            {"SQLALCHEMY_DATABASE_URI": "postgresql://db/cf", "MAIL_SERVER": None, "REDIS_URL": "redis://"},
            {"SECRET_KEY": "k"},
            {"MAIL_SERVER"},
        ),
        (
            {"SQLALCHEMY_DATABASE_URI": "postgresql://db/cf", "MAIL_SERVER": "smtp", "REDIS_URL": "redis://"},
            {},
            {"SECRET_KEY"},
        ),
        (
            {"SQLALCHEMY_DATABASE_URI": "postgresql://db/cf", "MAIL_SERVER": "smtp", "REDIS_URL": "redis://"},
            {"SECRET_KEY": "k"},
            set(),
        ),
    ],
)
def test_check_config_names_each_demo_default(settings, environ, fatal):
    found = check_production({"CASEFLOW_BASE_URL": "https://caseflow.example.vn", **settings}, environ)
    assert {f.setting for f in found if f.fatal} == fatal


def test_check_config_refuses_the_demo_defaults_unless_told_it_is_a_demo(runner, backend, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    refused = runner.invoke(args=["caseflow", "check-config"])
    assert refused.exit_code != 0
    assert "SECRET_KEY" in refused.output and "MAIL_SERVER" in refused.output
    assert ("DATABASE_URL" in refused.output) == (backend == "sqlite")
    assert runner.invoke(args=["caseflow", "check-config", "--demo"]).exit_code == 0
