"""The worker's cron makes backups on its own and keeps only the newest CASEFLOW_BACKUP_KEEP."""

from __future__ import annotations

import json
import time

import pytest

from caseflow.services.backup import prune

pytestmark = pytest.mark.redis


@pytest.fixture
def app_config(mail_config):
    return {**mail_config, "SCAN_INTERVAL_SECONDS": 60}


def test_the_worker_backs_up_on_schedule_and_keeps_the_newest_copies(app, world, open_case, worker, tmp_path):
    open_case("A")
    folder = tmp_path / "backups"
    worker.env.update(
        {
            "CASEFLOW_BACKUP_DIR": str(folder),
            "CASEFLOW_BACKUP_KEEP": "2",
            "CASEFLOW_BACKUP_INTERVAL_SECONDS": "1",
        }
    )
    worker.start()
    deadline = time.monotonic() + 90
    made = set()
    while len(made) < 3:  # three backups made: the first is pruned once the third lands
        if folder.is_dir():
            made |= {p.name for p in folder.iterdir()}
        assert time.monotonic() < deadline, worker.logs()
        time.sleep(0.2)
    time.sleep(1.5)
    kept = sorted(p for p in folder.iterdir() if (p / "manifest.json").is_file())
    assert 1 <= len(kept) <= 2
    manifest = json.loads((kept[-1] / "manifest.json").read_text())
    assert manifest["counts"]["cases"] == 1


def test_prune_keeps_the_newest(tmp_path):
    for name in ("caseflow-20260101T000000Z", "caseflow-20260102T000000Z", "caseflow-20260103T000000Z"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text("{}")
    (tmp_path / "unrelated").mkdir()
    deleted = prune(tmp_path, 2)
    assert [p.name for p in deleted] == ["caseflow-20260101T000000Z"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "caseflow-20260102T000000Z",
        "caseflow-20260103T000000Z",
        "unrelated",
    ]
