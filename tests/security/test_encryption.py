"""The child's and the informant's identity, and free text naming people, are encrypted at rest."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select, text

from caseflow import crypto
from caseflow.extensions import db
from caseflow.models import Child
from tests.security.conftest import CHILD_ADDRESS, CHILD_NAME, INFORMANT_PHONE, NOTE_TEXT, SECRETS


def test_pg_dump_of_the_database_holds_no_name_address_or_phone(app, backend, identity_case):
    if backend != "postgres":
        pytest.skip("pg_dump reads PostgreSQL")
    url = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    dump = subprocess.run(["pg_dump", "--no-owner", url], capture_output=True, check=True).stdout.decode()
    assert "INSERT" in dump or "COPY" in dump
    assert "cf1$" in dump  # the values are there, encrypted
    for secret in SECRETS:
        assert secret not in dump, secret
    assert "Khuê" not in dump and "2015-03-02" not in dump


def test_sqlite_file_holds_no_name_address_or_phone(app, backend, identity_case):
    if backend != "sqlite":
        pytest.skip("reads the SQLite file")
    db.session.remove()
    path = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = path.read_bytes()
    for secret in SECRETS:
        assert secret.encode() not in raw, secret


def test_the_api_still_shows_the_identity_to_the_commune(api, identity_case):
    assert identity_case["child"]["full_name"] == CHILD_NAME
    assert identity_case["child"]["address"] == CHILD_ADDRESS
    assert identity_case["child"]["date_of_birth"] == "2015-03-02"
    assert identity_case["informant"]["phone"] == INFORMANT_PHONE
    trail = api.get(f"/api/v1/cases/{identity_case['id']}/events", "officer_a@test.vn").get_json()["items"]
    assert any(e["data"].get("text") == NOTE_TEXT for e in trail)


def test_a_ciphertext_moved_to_another_column_does_not_decrypt(app, identity_case, sql):
    sql("UPDATE children SET address = full_name")
    db.session.commit()
    with pytest.raises(crypto.DecryptionError):
        db.session.scalars(select(Child)).one()


def test_the_blind_index_finds_the_same_child_typed_without_accents(app, identity_case):
    from datetime import date

    child = db.session.scalar(select(Child))
    assert child.name_index == crypto.child_name_index("hoang thi  mai KHUE", date(2015, 3, 2))
    assert child.name_index != crypto.child_name_index("Hoàng Thị Mai", date(2015, 3, 2))
    assert child.name_index != crypto.child_name_index(CHILD_NAME, date(2015, 3, 3))
    stored = db.session.execute(text("SELECT name_index FROM children")).scalar()
    assert stored == child.name_index and CHILD_NAME not in stored


def test_rotate_key_reencrypts_everything_and_old_values_stay_readable_meanwhile(
    app, runner, api, identity_case, sql
):
    old = crypto.keyring().current
    result = runner.invoke(args=["caseflow", "rotate-key"])
    assert result.exit_code == 0, result.output
    new = crypto.keyring().current
    assert new != old
    key_lines = crypto.key_file(app).read_text().split()
    assert key_lines[0] == new and old in key_lines  # the old key is kept for old backups
    stored = [
        v
        for (v,) in sql("SELECT full_name FROM children UNION ALL SELECT CAST(data AS TEXT) FROM case_events")
    ]
    assert stored and all(v.lstrip('"').startswith(f"cf1${new}$") for v in stored)  # JSON: a string
    body = api.get(f"/api/v1/cases/{identity_case['id']}", "officer_a@test.vn").get_json()
    assert body["child"]["full_name"] == CHILD_NAME
    verify = runner.invoke(args=["caseflow", "verify-audit"])
    assert verify.exit_code == 0, verify.output


def test_keys_from_the_setting_and_a_missing_key_is_an_error(app):
    ring = crypto.parse_keys(crypto.new_key_line())
    sealed = ring.encrypt("Nguyễn Văn A", "children.full_name")
    other = crypto.parse_keys(crypto.new_key_line())
    with pytest.raises(crypto.DecryptionError):
        other.decrypt(sealed, "children.full_name")
    both = crypto.parse_keys(
        crypto.new_key_line().replace(" ", ":") + "," + f"{ring.current}:{_key_b64(ring)}"
    )
    assert both.decrypt(sealed, "children.full_name") == "Nguyễn Văn A"


def _key_b64(ring: crypto.Keyring) -> str:
    import base64

    return base64.urlsafe_b64encode(ring.keys[ring.current]).decode()


_RACE_SCRIPT = """
import sys, time
from pathlib import Path
from flask import Flask
from caseflow import crypto
start = float(sys.argv[2])
while time.time() < start:
    pass
app = Flask("race")
app.config["CASEFLOW_DATA_KEY_FILE"] = sys.argv[1]
print(crypto.load_keyring(app).current)
"""


def test_processes_starting_together_all_read_the_one_key_written(tmp_path):
    """Workers of a fresh install start at once: each must read the complete key the first one
    wrote, never an empty file another is still writing (CI once failed 395 tests that way)."""
    import sys
    import time

    for attempt in range(5):
        path = tmp_path / f"try{attempt}" / "data_key"
        path.parent.mkdir()
        start = str(time.time() + 1.5)
        runs = [
            subprocess.Popen(
                [sys.executable, "-c", _RACE_SCRIPT, str(path), start],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        outputs = [run.communicate(timeout=60) for run in runs]
        assert all(run.returncode == 0 for run in runs), [err for _, err in outputs]
        assert len({out.strip() for out, _ in outputs}) == 1
        assert crypto.parse_keys(path.read_text()).current == outputs[0][0].strip()
        assert [p.name for p in path.parent.iterdir()] == ["data_key"]  # no temporary left
