"""Mail through a real RQ worker to a real SMTP server, including the faults: SMTP refusing,
Redis down at commit, a worker killed mid-send."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import Notification
from caseflow.notifications import failed_notifications, retry_notification
from caseflow.notifications.escalation import run_scan

pytestmark = pytest.mark.redis


@pytest.fixture
def app_config(mail_config):
    return mail_config


def _rows() -> list[Notification]:
    db.session.rollback()  # a fresh snapshot: the worker wrote from another process
    return list(db.session.scalars(select(Notification).order_by(Notification.id)))


def _wait_rows(predicate, timeout: float = 30) -> list[Notification]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = _rows()
        if predicate(rows):
            return rows
        time.sleep(0.2)
    raise AssertionError([(r.id, r.status, r.attempts, r.last_error) for r in _rows()])


def test_task_created_mail_reaches_the_agency_through_the_worker(app, open_case, world, worker, smtp_server):
    case = open_case("A")
    [row] = _rows()
    assert row.status == "pending" and row.kind == "task_created"  # queued, not sent by the request
    assert smtp_server.messages == []

    worker.burst()

    [(recipients, message)] = smtp_server.wait_for(1)
    assert recipients == ["commune_committee.a@agency.test"]
    assert (
        message["Subject"]
        == f"[{case['reference']}] Nhiệm vụ mới: Kiểm tra, xác minh và đánh giá nguy cơ ban đầu"
    )
    text = smtp_server.text(message)
    assert "Hạn:" in text and "(giờ Việt Nam)" in text  # Vietnamese, local time
    assert f"http://127.0.0.1:5000/cases/{case['id']}" in text
    assert "/actions/" in text and "/actions/" in smtp_server.html(message)
    assert message["Message-ID"] == f"<caseflow-{row.id}@localhost>"
    [row] = _rows()
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None


def test_english_speaking_agency_gets_english_mail(app, open_case, world, worker, smtp_server):
    world.agencies["A-commune_committee"].locale = "en"
    db.session.commit()
    case = open_case("A")
    worker.burst()
    [(_, message)] = smtp_server.wait_for(1)
    assert message["Subject"].startswith(f"[{case['reference']}] New task: Verify the report")
    assert "Due:" in smtp_server.text(message) and "(Vietnam time)" in smtp_server.text(message)


def test_smtp_refusing_for_a_while_then_accepting_delivers_every_mail_once(
    app, open_case, fire, world, worker, smtp_server
):
    smtp_server.refuse = 4
    open_case("A")
    open_case("B")
    worker.start("--no-cron")  # a long-running worker: its scheduler runs the backed-off retries
    try:
        _wait_rows(lambda rows: len(rows) == 2 and all(r.status == "sent" for r in rows))
    except AssertionError:
        print(worker.logs())
        raise
    assert smtp_server.refused == 4
    recipients = sorted(r[0] for r, _ in smtp_server.messages)
    assert recipients == ["commune_committee.a@agency.test", "commune_committee.b@agency.test"]
    assert sum(r.attempts for r in _rows()) == 2 + 4


def test_after_the_last_retry_the_row_is_failed_shown_on_healthz_and_can_be_retried(
    app, client, open_case, world, worker, smtp_server
):
    app.config["NOTIFICATION_MAX_ATTEMPTS"] = 2
    worker.env["CASEFLOW_NOTIFICATION_MAX_ATTEMPTS"] = "2"
    smtp_server.refuse = 2
    open_case("A")
    worker.start("--no-cron")
    [row] = _wait_rows(lambda rows: rows and rows[0].status == "failed")
    assert row.attempts == 2 and "451" in row.last_error
    assert client.get("/healthz").get_json()["failed_notifications"] == 1
    assert [r.id for r in failed_notifications()] == [row.id]

    assert retry_notification(row.id) is True
    _wait_rows(lambda rows: rows[0].status == "sent")
    assert len(smtp_server.wait_for(1)) == 1
    assert client.get("/healthz").get_json()["failed_notifications"] == 0
    assert retry_notification(row.id) is False  # only failed rows


def test_redis_down_when_a_case_changes_loses_nothing(app, open_case, world, worker, smtp_server, redis_url):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # a closed port
    case = open_case("A")  # the change commits although the hand-over to Redis fails
    [row] = _rows()
    assert row.status == "pending" and case["state"] == "received"
    worker.burst()
    assert smtp_server.messages == []

    app.config["REDIS_URL"] = redis_url  # Redis is back: the scan's sweep hands the row over
    assert run_scan()["swept"] == 1
    worker.burst()
    [(recipients, _)] = smtp_server.wait_for(1)
    assert recipients == ["commune_committee.a@agency.test"]
    run_scan()
    worker.burst()
    time.sleep(0.3)
    assert len(smtp_server.messages) == 1 and _rows()[0].status == "sent"


def test_worker_killed_mid_send_delivers_the_mail_once(app, open_case, world, worker, smtp_server):
    app.config["NOTIFICATION_LEASE_SECONDS"] = 2
    worker.env["CASEFLOW_NOTIFICATION_LEASE_SECONDS"] = "2"
    release = smtp_server.stall = __import__("threading").Event()
    open_case("A")
    process = worker.start("--no-cron")
    assert smtp_server.stalled.wait(30), "the worker never reached the SMTP server"
    [row] = _rows()
    assert row.status == "sending" and row.attempts == 1
    worker.kill(process)  # SIGKILL to the worker and its work horse, mid-send
    process.wait(10)
    release.set()

    time.sleep(2.2)  # the lease runs out
    assert run_scan()["swept"] == 1
    worker.burst()
    [(recipients, _)] = smtp_server.wait_for(1)
    [row] = _rows()
    assert row.status == "sent" and row.attempts == 2
    run_scan()
    worker.burst()
    assert len(smtp_server.messages) == 1


def test_a_job_delivered_twice_sends_once(app, open_case, world, worker, smtp_server):
    """RQ delivers at least once: a second job for a row already sent must not send it again."""
    from caseflow.services.outbox import dispatch

    open_case("A")
    [row] = _rows()
    dispatch([row.id, row.id])
    worker.burst()
    smtp_server.wait_for(1)
    time.sleep(0.3)
    assert len(smtp_server.messages) == 1


def test_a_transitions_mails_travel_as_one_job_and_a_bad_row_holds_back_none(
    app, open_case, fire, world, worker, smtp_server
):
    """One RQ job per commit, not per mail; inside it each row goes on its own."""
    from caseflow.worker import MAIL, get_queue

    case = open_case("A")
    worker.burst()
    smtp_server.wait_for(1)
    fire(
        case,
        "verify",
        "officer_a@test.vn",
        {"risk_level": "high", "serious_harm": True, "caregiver_is_abuser": False, "findings": "Seen"},
    )
    new_rows = [r.id for r in _rows() if r.status == "pending"]
    # The draft plan, the police's and the health centre's emergency tasks, the police's evidence,
    # and the ad-hoc report of a serious case to the province (services/adhoc.py).
    assert len(new_rows) == 5
    [job] = get_queue(app, MAIL).jobs
    assert job.func_name == "caseflow.jobs.mail.send_notifications" and job.args == (new_rows,)
    # A row that no longer exists, queued with a real one, does not stop it: the draft plan's.
    draft = next(r for r in _rows() if r.id in new_rows and r.recipient == "commune_committee.a@agency.test")
    db.session.delete(db.session.get(Notification, draft.id))
    db.session.commit()
    worker.burst()
    assert sorted(r[0] for r, _ in smtp_server.wait_for(5)[1:]) == [
        "health.a@agency.test",
        "police.a@agency.test",
        "police.a@agency.test",
        "supervisor_p@test.vn",
    ]
    job.refresh()
    assert job.return_value() == {"skipped": 1, "sent": 4}


def test_non_forking_worker_delivers_too(app, open_case, world, worker, smtp_server):
    open_case("A")
    open_case("B")
    worker.burst("--no-fork")
    assert sorted(r[0] for r, _ in smtp_server.wait_for(2)) == [
        "commune_committee.a@agency.test",
        "commune_committee.b@agency.test",
    ]
    assert {r.status for r in _rows()} == {"sent"}
