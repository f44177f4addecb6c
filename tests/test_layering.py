"""The package's structure holds: import-linter's contracts (.importlinter) are kept, and the
outbox hands committed rows to whatever sender the app set, never to a queue it imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from caseflow.extensions import db
from caseflow.models import Notification
from caseflow.services import outbox
from tests.conftest import ROOT


def test_the_import_contracts_are_kept():
    """Layers web/api -> services -> workflow/models, notifications never -> jobs/worker, no cycle."""
    lint_imports = Path(sys.executable).parent / "lint-imports"  # installed beside this Python
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Contracts: 4 kept, 0 broken." in result.stdout


def test_committed_rows_go_to_the_sender_set_in_init_app_and_rolled_back_ones_never(app, world):
    sent: list[list[int]] = []
    outbox.init_app(
        app, send=lambda ids, delay=None: sent.append(list(ids)), send_digests=lambda r, d=None: None
    )

    kept = outbox.queue("task_created", "a@agency.test", dedupe="test:kept")
    assert sent == []  # not before the commit
    db.session.commit()
    assert sent == [[kept.id]]

    outbox.queue("task_created", "b@agency.test", dedupe="test:dropped")
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert sent == [[kept.id]]
    assert db.session.query(Notification).filter_by(dedupe_key="test:dropped").count() == 0


def test_one_dedupe_key_format_names_kind_case_task_level_recipient_and_occasion():
    assert outbox.dedupe_key("overdue", 7, 12, 2, "x@test.vn") == "overdue:7:12:2:x@test.vn"
    assert outbox.dedupe_key("case_closed", 7, None, 0, "x@test.vn", "v9") == "case_closed:7:-:0:x@test.vn:v9"
    assert len(outbox.dedupe_key("k", 1, 1, 0, "x" * 300)) == 200
