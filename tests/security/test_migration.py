"""Migration 0007 converts a register written before encryption: rows encrypted, trail chained,
text holding a lone surrogate repaired."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from caseflow import create_app, crypto
from caseflow.extensions import db
from caseflow.models import Case, CaseEvent, Child, Informant
from caseflow.services import audit_chain
from tests.conftest import PG_ADMIN_URL, ROOT, TEST_CONFIG

ROWS = [
    "INSERT INTO org_units (id, code, name, level, path) VALUES (1, 'A', 'Xã A', 'commune', '/A/')",
    "INSERT INTO cases (id, state, version, workflow_version, harm_types, incident_commune_id, residence_commune_id,"
    " channel, summary, findings, plan, received_at, state_entered_at, serious_harm, caregiver_is_abuser,"
    " criminal_referral, created_at, updated_at) VALUES (1, 'verified', 2, 'd/1', '[\"violence\"]', 1, 1,"
    " 'self', 'Cháu Trần Văn Cũ bị đánh', 'Gặp Trần Văn Cũ', '{\"text\": \"Kế hoạch cho Cũ\"}',"
    " '2026-01-02 03:04:05.000006', '2026-01-02 03:04:05', false, false, false,"
    " '2026-01-02 03:04:05', '2026-01-02 03:04:05')",
    "INSERT INTO children (id, case_id, full_name, date_of_birth, sex, address) VALUES"
    " (1, 1, 'Trần Văn Cũ', '2014-07-08', 'male', 'Thôn Cũ')",
    "INSERT INTO informants (id, case_id, consent, name, phone) VALUES (1, 1, true, 'Người Cũ', '0987000111')",
    "INSERT INTO case_events (id, case_id, at, kind, to_state, data) VALUES"
    " (1, 1, '2026-01-02 03:04:05.000006', 'created', 'received', '{\"channel\": \"self\"}')",
    "INSERT INTO case_events (id, case_id, at, kind, data) VALUES"
    " (2, 1, '2026-01-02 04:00:00', 'note', '{\"text\": \"bad \\ud800 text\"}')",
]


@pytest.fixture(params=["sqlite", "postgres"])
def old_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    if "postgres" not in __import__("os").environ.get("CASEFLOW_TEST_BACKENDS", "sqlite,postgres"):
        pytest.skip("PostgreSQL not selected")
    name = f"caseflow_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_0007_encrypts_chains_and_repairs_a_register_written_before_it(old_database, tmp_path, monkeypatch):
    monkeypatch.setenv("CASEFLOW_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": old_database})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="0012")
        for statement in ROWS:
            db.session.execute(text(statement))
        db.session.commit()
        upgrade(directory=str(ROOT / "migrations"))
        raw = db.session.execute(
            text(
                "SELECT c.full_name, c.date_of_birth, c.address, i.name, i.phone, k.summary, k.findings, k.plan"
                " FROM children c, informants i, cases k"
            )
        ).one()
        assert all(str(value).lstrip('"').startswith("cf1$") for value in raw), raw
        stored = [v for (v,) in db.session.execute(text("SELECT data FROM case_events ORDER BY id"))]
        assert all(str(v).lstrip('"').startswith("cf1$") for v in stored)
        child = db.session.scalar(select(Child))
        assert child.full_name == "Trần Văn Cũ" and child.date_of_birth.isoformat() == "2014-07-08"
        assert child.name_index == crypto.child_name_index("tran van cu", child.date_of_birth)
        assert db.session.scalar(select(Informant)).phone == "0987000111"
        case = db.session.scalar(select(Case))
        assert case.plan == {"text": "Kế hoạch cho Cũ"} and case.findings == "Gặp Trần Văn Cũ"
        events = list(db.session.scalars(select(CaseEvent).order_by(CaseEvent.id)))
        assert [e.seq for e in events] == [1, 2]
        assert events[1].data["text"] == "bad \ufffd text"  # the lone surrogate is gone
        assert list(audit_chain.verify(db.session)) == []
        db.session.remove()
        db.engine.dispose()
