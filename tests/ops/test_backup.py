"""Backups restore: every table and every attachment comes back, and restore refuses what it must."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, inspect, text

from caseflow.database import driver_url
from caseflow.extensions import db
from caseflow.services.backup import BackupError, attachments_dir, backup, restore


def _tables(url) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    engine = create_engine(driver_url(url))
    try:
        with engine.connect() as connection:
            out = {}
            for name in sorted(inspect(connection).get_table_names()):
                rows = connection.execute(text(f'SELECT * FROM "{name}"')).all()
                out[name] = sorted(tuple(str(value) for value in row) for row in rows)
            return out
    finally:
        engine.dispose()


@pytest.fixture
def register(app, world, open_case, fire):
    """Some cases, their tasks and trail, and two attachment files."""
    case = open_case()
    fire(
        case,
        "verify",
        "officer_a@test.vn",
        {
            "risk_level": "high",
            "serious_harm": True,
            "caregiver_is_abuser": False,
            "findings": "Có dấu hiệu bạo lực",
        },
    )
    open_case(summary="Trẻ bị bỏ rơi ở chợ")
    folder = attachments_dir()
    (folder / "ab").mkdir(parents=True)
    (folder / "ab" / "scan-1.pdf").write_bytes(b"%PDF-1.4 signed and stamped")
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    db.session.remove()
    return case


def _file_map(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_backup_restores_every_table_and_file_into_an_empty_database(
    app, register, tmp_path, empty_database_url
):
    source_url = db.engine.url.render_as_string(hide_password=False)
    before = _tables(source_url)
    files_before = _file_map(attachments_dir())
    manifest = backup(tmp_path / "bk")
    assert manifest["counts"]["cases"] == 2
    assert manifest["schema_revision"]
    assert set(manifest["files"]) >= {"attachments/ab/scan-1.pdf", "attachments/photo.png"}

    app.config["CASEFLOW_ATTACHMENTS_DIR"] = str(tmp_path / "restored-files")
    db.engine.dispose()
    restore(tmp_path / "bk", url=empty_database_url)

    assert _tables(empty_database_url) == before
    assert _file_map(tmp_path / "restored-files") == files_before


def test_restore_refuses_a_database_that_holds_data(app, register, tmp_path):
    backup(tmp_path / "bk")
    app.config["CASEFLOW_ATTACHMENTS_DIR"] = str(tmp_path / "elsewhere")
    with pytest.raises(BackupError, match="not empty"):
        restore(tmp_path / "bk")  # into the very database it came from
    assert db.session.scalar(text("SELECT count(*) FROM cases")) == 2


def test_restore_refuses_a_backup_from_a_newer_schema(app, register, tmp_path, empty_database_url):
    backup(tmp_path / "bk")
    manifest_path = tmp_path / "bk" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["schema_revision"] = "9999_from_the_future"
    manifest_path.write_text(json.dumps(manifest))
    app.config["CASEFLOW_ATTACHMENTS_DIR"] = str(tmp_path / "restored-files")
    with pytest.raises(BackupError, match="newer"):
        restore(tmp_path / "bk", url=empty_database_url)
    assert _tables(empty_database_url) == {}


def test_restore_refuses_a_changed_file(app, register, tmp_path, empty_database_url):
    backup(tmp_path / "bk")
    (tmp_path / "bk" / "attachments" / "photo.png").write_bytes(b"tampered")
    with pytest.raises(BackupError, match="photo.png"):
        restore(tmp_path / "bk", url=empty_database_url)


def test_the_cli_backs_up_into_a_new_folder_and_refuses_a_full_one(app, register, runner, tmp_path):
    result = runner.invoke(args=["caseflow", "backup", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert "2" in result.output or "rows" in result.output
    again = runner.invoke(args=["caseflow", "backup", str(tmp_path / "cli")])
    assert again.exit_code != 0 and "not empty" in again.output
