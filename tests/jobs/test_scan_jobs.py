"""The scan as RQ runs it: enqueued by RQ's CronScheduler in the worker, and run by processes at once."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from caseflow.extensions import db
from caseflow.models import CaseEvent, Task
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
    # The task-created mail, then the breach: the agency, the chair and the province at once.
    mails = smtp_server.wait_for(4, timeout=60)
    subjects = sorted(m["Subject"] for _, m in mails)
    assert f"[{case['reference']}] Quá hạn: Kiểm tra, xác minh và đánh giá nguy cơ ban đầu" in subjects
    time.sleep(3)  # several more scans: nothing new to send
    assert len(smtp_server.messages) == 4, worker.logs()


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


VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _scan_at(app, moment: datetime) -> None:
    from caseflow.jobs.scan import scan
    from caseflow.worker import SCAN, get_queue

    get_queue(app, SCAN).enqueue(scan, moment.isoformat())


def test_both_ladders_through_a_real_worker_and_smtp_server_at_named_times(
    app, open_case, fire, world, worker, smtp_server
):
    """An emergency received Monday 2026-11-30 20:00 breaches Tuesday 08:00; a plan due Friday
    2026-12-04 reaches the chair on Monday 2026-12-07 07:00, not over the weekend."""
    emergency = open_case("A", received_at=datetime(2026, 11, 30, 20, 0, tzinfo=VN).isoformat())
    plan = fire(
        open_case("B"),
        "verify",
        "officer_b@test.vn",
        {"risk_level": "low", "serious_harm": False, "caregiver_is_abuser": False, "findings": "seen"},
    )
    draft = db.session.scalar(select(Task).where(Task.case_id == plan["id"], Task.kind == "draft_plan"))
    friday = datetime(2026, 12, 4, 23, 59, 59, tzinfo=VN)
    db.session.execute(
        update(Task).where(Task.id == draft.id).values(due_at=friday, next_escalation_at=friday)
    )
    db.session.commit()
    worker.burst()  # the task-created mails
    seen = len(smtp_server.messages)

    def scan(*when: int) -> list[tuple[str, str]]:
        nonlocal seen
        _scan_at(app, datetime(*when, tzinfo=VN))
        worker.burst()  # the scan job, then the mail jobs it enqueued
        new, seen = smtp_server.messages[seen:], len(smtp_server.messages)
        return sorted((rcpt, m["Subject"].split("]")[0] + "]") for rcpts, m in new for rcpt in rcpts)

    ref_e, ref_p = f"[{emergency['reference']}]", f"[{plan['reference']}]"
    assert scan(2026, 12, 1, 5, 0) == [("chair_a@test.vn", ref_e), ("commune_committee.a@agency.test", ref_e)]
    assert scan(2026, 12, 1, 8, 0) == [
        ("chair_a@test.vn", ref_e),
        ("commune_committee.a@agency.test", ref_e),
        ("supervisor_p@test.vn", ref_e),
    ]
    assert scan(2026, 12, 1, 8, 0) == []  # the same moment again: nothing twice
    assert scan(2026, 12, 1, 12, 0) == [
        ("chair_a@test.vn", ref_e),
        ("commune_committee.a@agency.test", ref_e),
    ]
    db.session.execute(update(Task).where(Task.case_id == emergency["id"]).values(status="done"))
    db.session.commit()
    assert scan(2026, 12, 6, 10, 0) == []  # Sunday: the plan's levels wait
    assert scan(2026, 12, 7, 7, 0) == [("chair_b@test.vn", ref_p), ("commune_committee.b@agency.test", ref_p)]
    assert scan(2026, 12, 9, 7, 0) == [("supervisor_p@test.vn", ref_p)]
