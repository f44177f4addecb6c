"""The overdue ladder: agency, commune chair, then the supervisors of each unit above."""

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


def test_overdue_task_climbs_agency_then_chair_then_province_skipping_the_missing_district(
    app, open_case, world, smtp_server
):
    case, task = _open_overdue(open_case, "A", HOUR)
    now = datetime.now(UTC)
    seen = len(smtp_server.messages)  # the task-created mail

    assert run_scan(now)["escalations"] == 1
    [mail] = _mail_to(smtp_server, "commune_committee.a@agency.test", seen)
    assert mail["Subject"] == f"[{case['reference']}] Quá hạn: Kiểm tra, xác minh và đánh giá nguy cơ ban đầu"
    assert run_scan(now)["escalations"] == 0  # the same moment again: nothing new

    run_scan(now + 24 * HOUR)
    [mail] = _mail_to(smtp_server, "chair_a@test.vn")
    assert "(cấp 2)" in mail["Subject"] and "Xã A" in smtp_server.text(mail)

    run_scan(now + 48 * HOUR)  # commune A sits directly under the province since 2025
    [mail] = _mail_to(smtp_server, "supervisor_p@test.vn")
    assert "(cấp 3)" in mail["Subject"] and "Tỉnh Thử" in smtp_server.text(mail)
    assert not _mail_to(smtp_server, "supervisor_d@test.vn")

    run_scan(now + 200 * HOUR)  # the top of the ladder: nobody else to tell
    assert _escalations(task.id) == [
        (task.id, 1, ["commune_committee.a@agency.test"]),
        (task.id, 2, ["chair_a@test.vn"]),
        (task.id, 3, ["supervisor_p@test.vn"]),
    ]
    db.session.refresh(task)
    assert task.escalation_level == 3


def test_a_commune_under_a_district_escalates_to_the_district_before_the_province(
    app, open_case, world, smtp_server
):
    _, task = _open_overdue(open_case, "C", 3 * 24 * HOUR)  # found three days late: one scan sends all
    run_scan()
    assert [(level, recipients) for _, level, recipients in _escalations(task.id)] == [
        (1, ["commune_committee.c@agency.test"]),
        (2, ["chair_c@test.vn"]),
        (3, ["supervisor_d@test.vn"]),
        (4, ["supervisor_p@test.vn"]),
    ]
    assert len(_mail_to(smtp_server, "supervisor_d@test.vn")) == 1
    assert run_scan()["escalations"] == 0


def test_intervals_are_settings(app, open_case, world, smtp_server):
    app.config["ESCALATION_INTERVAL_HOURS"] = "2"
    _, task = _open_overdue(open_case, "A", 3 * HOUR)
    run_scan()
    assert [level for _, level, _ in _escalations(task.id)] == [1, 2]


def test_a_task_done_before_the_scan_is_not_escalated(app, api, open_case, world, smtp_server):
    case, task = _open_overdue(open_case, "A", 30 * HOUR)
    db.session.execute(update(Task).where(Task.id == task.id).values(status="done"))
    db.session.commit()
    assert run_scan()["escalations"] == 0 and _escalations() == []


def test_warning_goes_to_the_agency_once_when_a_quarter_of_the_time_is_left(
    app, open_case, world, smtp_server
):
    """The time given is from the task's creation to its deadline."""
    soon = open_case("A", received_at=(datetime.now(UTC) - 4 * HOUR).isoformat())  # 8 hours given
    open_case("B", received_at=(datetime.now(UTC) - 1 * HOUR).isoformat())  # 11 hours given
    seen = len(smtp_server.messages)
    now = datetime.now(UTC)
    assert run_scan(now + 5 * HOUR)["warnings"] == 0  # 3 of 8 hours left
    assert run_scan(now + 6.5 * HOUR)["warnings"] == 1  # 1.5 of 8 left; B still has 4.5 of 11
    assert run_scan(now + 7 * HOUR)["warnings"] == 0
    [(recipients, mail)] = smtp_server.messages[seen:]
    assert recipients == ["commune_committee.a@agency.test"]
    assert mail["Subject"].startswith(f"[{soon['reference']}] Sắp đến hạn:")
    task = db.session.scalar(select(Task).where(Task.case_id == soon["id"]))
    assert task.warned_at is not None


def test_supervisor_with_daily_digest_gets_one_mail_for_all_tasks(app, open_case, world, smtp_server):
    world.users["supervisor_p"].daily_digest = True
    db.session.commit()
    first, _ = _open_overdue(open_case, "A", 50 * HOUR)
    second, _ = _open_overdue(open_case, "B", 50 * HOUR)
    run_scan()
    assert not _mail_to(smtp_server, "supervisor_p@test.vn")  # waiting for the digest hour
    items = db.session.scalars(
        select(Notification).where(Notification.recipient == "supervisor_p@test.vn")
    ).all()
    assert len(items) == 2 and all(n.status == "pending" and n.next_attempt_at for n in items)

    # The digest hour comes.
    db.session.execute(
        update(Notification)
        .where(Notification.recipient == "supervisor_p@test.vn")
        .values(next_attempt_at=datetime.now(UTC) - timedelta(minutes=1))
    )
    db.session.commit()
    assert run_scan()["digests"] == 1
    [mail] = _mail_to(smtp_server, "supervisor_p@test.vn")
    text = smtp_server.text(mail)
    assert mail["Subject"] == "Tổng hợp nhiệm vụ quá hạn (2)"
    assert first["reference"] in text and second["reference"] in text
    run_scan()
    assert len(_mail_to(smtp_server, "supervisor_p@test.vn")) == 1
    db.session.rollback()
    assert {
        n.status
        for n in db.session.scalars(
            select(Notification).where(Notification.recipient == "supervisor_p@test.vn")
        )
    } == {"sent"}


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
