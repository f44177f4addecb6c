"""The scan as RQ runs it: enqueued by RQ's CronScheduler in the worker, and run by processes at once."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import CaseEvent
from tests.conftest import ROOT

pytestmark = pytest.mark.redis


@pytest.fixture
def app_config(mail_config):
    return {**mail_config, "SCAN_INTERVAL_SECONDS": 1}


def _overdue_case(open_case, commune: str, hours_late: float) -> dict:
    received = datetime.now(UTC) - timedelta(hours=12 + hours_late)
    return open_case(commune, received_at=received.isoformat())


def test_worker_runs_the_periodic_scan_on_rq_cron(app, open_case, world, worker, smtp_server):
    case = _overdue_case(open_case, "A", 1)
    worker.start()  # with its CronScheduler: the scan is enqueued at start and every second
    mails = smtp_server.wait_for(2, timeout=60)  # the task-created mail and the overdue reminder
    subjects = sorted(m["Subject"] for _, m in mails)
    assert f"[{case['reference']}] Quá hạn: Kiểm tra, xác minh và đánh giá nguy cơ ban đầu" in subjects
    time.sleep(3)  # several more scans: nothing new to send
    assert len(smtp_server.messages) == 2, worker.logs()


def test_two_scan_processes_at_the_same_moment_send_each_level_once(
    app, open_case, world, worker, smtp_server
):
    cases = [_overdue_case(open_case, commune, 60) for commune in ("A", "B", "C") * 3]
    command = worker.command("escalate")
    scans = [
        subprocess.Popen(command, cwd=ROOT, env=worker.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    outputs = [s.communicate(timeout=120)[0].decode() for s in scans]
    assert all(s.returncode == 0 for s in scans), outputs
    worker.burst()
    db.session.rollback()
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "escalation")).all()
    levels = Counter((e.data["task_id"], e.data["level"]) for e in events)
    assert set(levels.values()) == {1} and len({t for t, _ in levels}) == len(cases)
    sent = Counter((tuple(r), m["Subject"]) for r, m in smtp_server.messages)
    assert set(sent.values()) == {1}
    # 9 task-created mails, then 60 hours late: agency, chair and the next unit up for each case
    assert len(smtp_server.messages) == 9 + 9 * 3
