"""Shared fixtures: an app on SQLite or PostgreSQL, a small jurisdiction, and API helpers.

Every test that takes `app` runs twice, once per backend: SQLite (the embedded default)
and the PostgreSQL server on this machine, in a database made fresh for this run.
Set CASEFLOW_TEST_BACKENDS=sqlite to skip PostgreSQL while iterating.
"""

from __future__ import annotations

import io
import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from caseflow import create_app
from caseflow.extensions import db
from caseflow.models import Agency, OrgUnit, User
from caseflow.models.orgs import AGENCY_KINDS
from caseflow.seed_calendar import seed_calendar, shipped_days
from caseflow.services.reference import add_org_unit

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("CASEFLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = os.environ.get("CASEFLOW_TEST_BACKENDS", "sqlite,postgres").split(",")
PASSWORD = "correct-horse-battery"
TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    "WTF_CSRF_ENABLED": True,
    "MAIL_SERVER": None,
    "REDIS_URL": None,
    "RATELIMIT_ENABLED": False,  # tests sign in many users at once; tests/security turn limits on
    # Off but where tested (tests/reports): a year's overdue reports would mail every chair.
    "REPORT_OBLIGATIONS_SCAN": False,
}


def _migrate(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    app.instance_path = str(instance)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        seed_calendar()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file; each test gets a copy (faster than migrating again)."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.db"
    _migrate(f"sqlite:///{path}", folder)
    return path


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory) -> str:
    """A database made for this test run on the local server, dropped at the end."""
    name = f"caseflow_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    _migrate(url, tmp_path_factory.mktemp("pg-instance"))
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_postgres(url: str) -> None:
    app_tables = [t.name for t in db.metadata.sorted_tables]
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(app_tables)} RESTART IDENTITY CASCADE")
        # A test's calendar edits must not reach the next test: back to the shipped days.
        conn.cursor().executemany(
            "INSERT INTO calendar_days (day, kind, name, source) VALUES (%s, %s, %s, 'library')",
            [(day, kind, name) for day, (kind, name) in shipped_days().items()],
        )


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(request, backend, tmp_path) -> str:
    if backend == "sqlite":
        copy = tmp_path / "caseflow.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), copy)
        return f"sqlite:///{copy}"
    url = request.getfixturevalue("postgres_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to change settings (e.g. another workflow file)."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, app_config):
    os.environ["CASEFLOW_INSTANCE_PATH"] = str(tmp_path / "instance")
    application = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **app_config})
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@dataclass
class World:
    """A province with a historic district and three communes, each with every agency kind,
    and a user per role. Communes A and B are neighbours; C is under the historic district."""

    units: dict[str, OrgUnit] = field(default_factory=dict)
    agencies: dict[str, Agency] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def email(self, key: str) -> str:
        return self.users[key].email


def _user(world: World, key: str, role: str, unit: OrgUnit, agency: Agency | None = None) -> None:
    user = User(email=f"{key}@test.vn", name=key, role=role, org_unit=unit, agency=agency)
    user.set_password(PASSWORD)
    db.session.add(user)
    world.users[key] = user


@pytest.fixture
def world(app) -> World:
    w = World()
    w.units["P"] = add_org_unit("P", "Tỉnh Thử", "province", None, abbrev="TT")
    w.units["D"] = add_org_unit("D", "Huyện Cũ", "district", w.units["P"])
    w.units["A"] = add_org_unit("A", "Xã A", "commune", w.units["P"])
    w.units["B"] = add_org_unit("B", "Xã B", "commune", w.units["P"])
    w.units["C"] = add_org_unit("C", "Xã C", "commune", w.units["D"])
    for commune in ("A", "B", "C"):
        for kind in AGENCY_KINDS:
            agency = Agency(
                code=f"{commune}-{kind}",
                name=f"{kind} {commune}",
                kind=kind,
                org_unit=w.units[commune],
                email=f"{kind}.{commune.lower()}@agency.test",
            )
            db.session.add(agency)
            w.agencies[f"{commune}-{kind}"] = agency
    hotline = Agency(
        code="P-hotline", name="Tổng đài 111", kind="hotline", org_unit=w.units["P"], email="111@agency.test"
    )
    db.session.add(hotline)
    w.agencies["P-hotline"] = hotline
    _user(w, "admin", "admin", w.units["P"])
    _user(w, "supervisor_p", "supervisor", w.units["P"])
    _user(w, "supervisor_d", "supervisor", w.units["D"])
    _user(w, "hotline", "agency_staff", w.units["P"], hotline)
    for commune in ("A", "B", "C"):
        c = commune.lower()
        _user(w, f"officer_{c}", "officer", w.units[commune])
        _user(w, f"chair_{c}", "chair", w.units[commune])
        for kind in ("police", "health", "education"):
            _user(w, f"{kind}_{c}", "agency_staff", w.units[commune], w.agencies[f"{commune}-{kind}"])
    db.session.commit()
    return w


class Api:
    """A JSON client that logs in once per user and sends the bearer token."""

    def __init__(self, client) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    def token(self, email: str) -> str:
        if email not in self.tokens:
            resp = self.client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
            assert resp.status_code == 200, resp.get_json()
            self.tokens[email] = resp.get_json()["token"]
        return self.tokens[email]

    def call(self, method: str, url: str, as_: str, **kwargs):
        headers = {"Authorization": f"Bearer {self.token(as_)}"}
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def get(self, url, as_, **kw):
        return self.call("GET", url, as_, **kw)

    def post(self, url, as_, **kw):
        return self.call("POST", url, as_, **kw)

    def put(self, url, as_, **kw):
        return self.call("PUT", url, as_, **kw)

    def delete(self, url, as_, **kw):
        return self.call("DELETE", url, as_, **kw)


@pytest.fixture
def api(client) -> Api:
    return Api(client)


def new_case_payload(commune: str = "A", **overrides) -> dict:
    payload = {
        "incident_commune": commune,
        "channel": "hotline_111",
        "harm_types": ["violence"],
        "summary": "Neighbour reports shouting and a bruised child.",
        "child": {
            "full_name": "Bé Thử Nghiệm",
            "date_of_birth": "2016-05-01",
            "sex": "female",
            "address": "Thôn 1",
        },
        "informant": {"name": "Người Báo", "phone": "0900000000", "consent": True},
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def open_case(api, world):
    """Open a case through the API as an officer; returns the case JSON."""

    def _open(commune: str = "A", as_: str | None = None, **overrides) -> dict:
        resp = api.post(
            "/api/v1/cases",
            as_ or f"officer_{commune.lower()}@test.vn",
            json=new_case_payload(commune, **overrides),
        )
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    return _open


@pytest.fixture
def fire(api):
    """Fire a trigger through the API with the case's current version."""

    def _fire(case: dict, trigger: str, as_: str, data: dict | None = None, expect: int = 200) -> dict:
        resp = api.post(
            f"/api/v1/cases/{case['id']}/transitions",
            as_,
            json={"trigger": trigger, "version": case["version"], "data": data or {}},
        )
        assert resp.status_code == expect, resp.get_json()
        return resp.get_json()

    return _fire


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def sql(app):
    def _sql(statement: str, **params):
        return db.session.execute(text(statement), params)

    return _sql


# -- Notifications: a real SMTP server (the Redis and RQ worker fixtures are in tests/jobs/conftest.py)

import email as _email  # noqa: E402
import socket as _socket  # noqa: E402
import threading as _threading  # noqa: E402
import time as _time  # noqa: E402
from email.message import EmailMessage as _EmailMessage  # noqa: E402
from email.policy import default as _default_policy  # noqa: E402


class Inbox:
    """An aiosmtpd handler that keeps what it accepted and can refuse or stall on demand."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], _EmailMessage]] = []
        self.refuse = 0  # answer 451 to this many DATA commands first
        self.refused = 0
        self.stall: _threading.Event | None = None  # hold the next DATA until set, then refuse it
        self.stalled = _threading.Event()
        self.lock = _threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        import asyncio

        with self.lock:
            if self.refuse:
                self.refuse -= 1
                self.refused += 1
                return "451 4.3.0 Try again later"
            stall, self.stall = self.stall, None
        if stall is not None:
            self.stalled.set()
            while not stall.is_set():
                await asyncio.sleep(0.05)
            # The client vanished while we held it: a real server would not deliver either.
            return "451 4.3.0 Connection lost"
        message = _email.message_from_bytes(envelope.content, policy=_default_policy)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, recipient: str) -> list[_EmailMessage]:
        with self.lock:
            return [m for rcpts, m in self.messages if recipient in rcpts]

    def wait_for(self, count: int, timeout: float = 30) -> list[tuple[list[str], _EmailMessage]]:
        deadline = _time.monotonic() + timeout
        while _time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            _time.sleep(0.1)
        raise AssertionError(f"expected {count} mails, got {len(self.messages)}")

    @staticmethod
    def text(message: _EmailMessage) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def html(message: _EmailMessage) -> str:
        return message.get_body(preferencelist=("html",)).get_content()


def _free_port() -> int:
    with _socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) in the test process; yields its Inbox with `.port`."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    if inbox.stall is not None:
        inbox.stall.set()
    controller.stop()


def blank_pdf() -> bytes:
    """A one-page blank PDF: an attachment's content where the file's bytes do not matter."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
