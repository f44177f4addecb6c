"""The overdue scan's machinery: claims, concurrency, the command, the embedded thread, cancellation.

The ladders themselves (hours and working days, with named times) are in test_ladders.py."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from caseflow.extensions import db
from caseflow.models import CaseEvent, Notification, Task
from caseflow.notifications.escalation import run_scan

HOUR = timedelta(hours=1)


@pytest.fixture
def app_config(inprocess_mail):
    return inprocess_mail


def _open_overdue(open_case, commune: str, late: timedelta) -> tuple[dict, Task]:
    """A case whose 12-hour verify task is `late` past its deadline."""
    received = datetime.now(UTC) - timedelta(hours=12) - late
    case = open_case(commune, received_at=received.isoformat())
    task = db.session.scalar(select(Task).where(Task.case_id == case["id"]))
    return case, task


def _escalations(task_id: int | None = None) -> list[tuple[int, int, list[str]]]:
    db.session.rollback()
    events = db.session.scalars(
        select(CaseEvent).where(CaseEvent.kind == "escalation").order_by(CaseEvent.id)
    )
    return [
        (e.data["task_id"], e.data["level"], e.data["recipients"])
        for e in events
        if task_id is None or e.data["task_id"] == task_id
    ]


def _mail_to(smtp_server, recipient: str, since: int = 0) -> list:
    return [m for rcpts, m in smtp_server.messages[since:] if recipient in rcpts]


def test_a_task_done_before_the_scan_is_not_escalated(app, api, open_case, world, smtp_server):
    case, task = _open_overdue(open_case, "A", 30 * HOUR)
    db.session.execute(update(Task).where(Task.id == task.id).values(status="done"))
    db.session.commit()
    assert run_scan()["escalations"] == 0 and _escalations() == []


def test_two_scans_at_the_same_moment_send_each_level_once(app, open_case, world, smtp_server):
    tasks = [_open_overdue(open_case, commune, 60 * HOUR)[1].id for commune in ("A", "B", "C") * 4]
    now = datetime.now(UTC)
    start = threading.Barrier(2)
    errors = []

    def scan() -> None:
        with app.app_context():
            try:
                start.wait()
                run_scan(now)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    levels = Counter((task_id, level) for task_id, level, _ in _escalations())
    assert set(levels.values()) == {1}
    assert {t for t, _ in levels} == set(tasks)
    sent = Counter((tuple(r), m["Subject"]) for r, m in smtp_server.messages)
    assert set(sent.values()) == {1}


def test_escalate_command_runs_one_scan(app, runner, open_case, world, smtp_server):
    _open_overdue(open_case, "A", HOUR)
    result = runner.invoke(args=["caseflow", "escalate"])
    assert result.exit_code == 0, result.output
    assert "escalations: 1" in result.output


def test_embedded_default_scans_in_a_background_thread(app, open_case, world, smtp_server):
    """No Redis: `caseflow demo` runs the scan in a thread of its own process."""
    import time

    from caseflow.notifications.escalation import start_background_scanner

    case, _ = _open_overdue(open_case, "A", HOUR)
    db.session.commit()
    thread = start_background_scanner(app, 0.2)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(
            "Quá hạn" in m["Subject"] for _, m in smtp_server.messages
        ):
            time.sleep(0.1)
    finally:
        thread.stop.set()
        thread.join(5)
    assert [m["Subject"] for _, m in smtp_server.messages if "Quá hạn" in m["Subject"]] == [
        f"[{case['reference']}] Quá hạn: Kiểm tra, xác minh và đánh giá nguy cơ ban đầu"
    ]


def test_a_reminder_for_a_task_finished_before_its_mail_went_out_is_cancelled(
    app, open_case, world, smtp_server
):
    from caseflow.notifications.delivery import deliver

    _, task = _open_overdue(open_case, "A", HOUR)
    row = Notification(
        dedupe_key=f"overdue:test:{task.id}",
        kind="overdue",
        case_id=task.case_id,
        task_id=task.id,
        level=1,
        recipient="commune_committee.a@agency.test",
        status="pending",
    )
    db.session.execute(update(Task).where(Task.id == task.id).values(status="done"))
    db.session.add(row)
    db.session.commit()
    seen = len(smtp_server.messages)
    deliver(row.id)
    db.session.expire_all()
    assert db.session.get(Notification, row.id).status == "cancelled"
    assert len(smtp_server.messages) == seen
