"""The ladder follows the clock, with named times (Vietnam time, Asia/Ho_Chi_Minh).

Hours (the 12-hour emergency rules): the agency and the chair are warned 3 hours before; at
the breach the agency, the chair and the province's supervisors hear at once (never through a
digest); the reminder repeats every 4 hours until the task is done. Working days: levels 0, 1
and 3 working days after the deadline, sent only on working days between 07:00 and 17:00.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from caseflow.extensions import db
from caseflow.models import CaseEvent, Notification, Task
from caseflow.notifications.escalation import rules, run_scan
from caseflow.services.calendar import load_calendar
from caseflow.workflow.ladder import WorkingDaysLadder

VN = ZoneInfo("Asia/Ho_Chi_Minh")
AGENCY_A = "commune_committee.a@agency.test"
VERIFY_SUBJECT = "Kiểm tra, xác minh và đánh giá nguy cơ ban đầu"


def vn(*args) -> datetime:
    return datetime(*args, tzinfo=VN)


@pytest.fixture
def app_config(inprocess_mail):
    return inprocess_mail


class Mailbox:
    """What the SMTP server received since the last look, as (recipient, subject) pairs."""

    def __init__(self, smtp_server) -> None:
        self.server, self.seen = smtp_server, len(smtp_server.messages)

    def new(self) -> list[tuple[str, str]]:
        messages, self.seen = self.server.messages[self.seen :], len(self.server.messages)
        return sorted((rcpt, m["Subject"]) for rcpts, m in messages for rcpt in rcpts)

    def recipients(self) -> list[str]:
        return sorted(rcpt for rcpt, _ in self.new())


def _hours_task(open_case, commune: str, received: datetime) -> tuple[dict, Task]:
    """A report received at a named time: its verify task is due 12 wall-clock hours later."""
    case = open_case(commune, received_at=received.isoformat())
    task = db.session.scalar(select(Task).where(Task.case_id == case["id"]))
    assert task.due_at == received + timedelta(hours=12)
    return case, task


def _plan_task(open_case, fire, commune: str, due: datetime) -> tuple[dict, Task]:
    """A verified case whose draft-plan task (5 working days) falls due at a named moment."""
    case = fire(
        open_case(commune),
        "verify",
        f"officer_{commune.lower()}@test.vn",
        {"risk_level": "medium", "serious_harm": False, "caregiver_is_abuser": False, "findings": "seen"},
    )
    task = db.session.scalar(select(Task).where(Task.case_id == case["id"], Task.kind == "draft_plan"))
    db.session.execute(update(Task).where(Task.id == task.id).values(due_at=due, next_escalation_at=due))
    db.session.commit()
    db.session.refresh(task)
    return case, task


def _levels(task_id: int) -> list[tuple[int, list[str]]]:
    db.session.rollback()
    events = db.session.scalars(
        select(CaseEvent).where(CaseEvent.kind == "escalation").order_by(CaseEvent.id)
    )
    return [(e.data["level"], e.data["recipients"]) for e in events if e.data["task_id"] == task_id]


# -- hours ----------------------------------------------------------------------------------


def test_an_emergency_breach_reaches_the_chair_and_province_at_once_and_repeats_every_four_hours(
    app, open_case, world, smtp_server
):
    # A province supervisor who chose a daily digest still hears of an emergency breach at once.
    world.users["supervisor_p"].daily_digest = True
    db.session.commit()
    case, task = _hours_task(open_case, "A", vn(2026, 11, 30, 20, 0))  # due Tuesday 08:00
    ref = case["reference"]
    box = Mailbox(smtp_server)

    assert run_scan(vn(2026, 12, 1, 4, 30))["warnings"] == 0  # 3 h 30 before: not yet
    assert run_scan(vn(2026, 12, 1, 5, 0))["warnings"] == 1  # 3 h before: the agency and the chair
    assert box.new() == sorted(
        [
            (AGENCY_A, f"[{ref}] Sắp đến hạn: {VERIFY_SUBJECT}"),
            ("chair_a@test.vn", f"[{ref}] Sắp đến hạn: {VERIFY_SUBJECT}"),
        ]
    )
    assert run_scan(vn(2026, 12, 1, 7, 59))["warnings"] == 0 and box.new() == []

    # 08:00, twelve hours after receipt: not 36 (the old 24-hour interval).
    assert run_scan(vn(2026, 12, 1, 8, 0))["escalations"] == 1
    assert box.recipients() == sorted([AGENCY_A, "chair_a@test.vn", "supervisor_p@test.vn"])
    kinds = db.session.scalars(
        select(Notification.kind).where(Notification.recipient == "supervisor_p@test.vn")
    )
    assert list(kinds) == ["escalation"]  # sent, not held for the digest
    assert run_scan(vn(2026, 12, 1, 11, 59))["escalations"] == 0 and box.new() == []

    assert run_scan(vn(2026, 12, 1, 12, 0))["escalations"] == 1  # four hours on: reminded again
    assert box.new() == sorted(
        [
            (AGENCY_A, f"[{ref}] Vẫn quá hạn (nhắc lần 2): {VERIFY_SUBJECT}"),
            ("chair_a@test.vn", f"[{ref}] Vẫn quá hạn (nhắc lần 2): {VERIFY_SUBJECT}"),
        ]
    )
    assert run_scan(vn(2026, 12, 1, 12, 0))["escalations"] == 0  # the same moment again: nothing
    assert run_scan(vn(2026, 12, 1, 16, 0))["escalations"] == 1
    assert box.recipients() == sorted([AGENCY_A, "chair_a@test.vn"])

    db.session.execute(update(Task).where(Task.id == task.id).values(status="done"))  # done: it stops
    db.session.commit()
    assert run_scan(vn(2026, 12, 1, 20, 0))["escalations"] == 0 and box.new() == []
    assert [level for level, _ in _levels(task.id)] == [1, 2, 3]
    assert not [m for m in smtp_server.messages if "supervisor_d@test.vn" in m[0]]


def test_an_emergency_found_a_day_late_sends_one_breach_not_a_burst_of_repeats(
    app, open_case, world, smtp_server
):
    _, task = _hours_task(open_case, "C", vn(2026, 11, 29, 20, 0))  # due Monday 08:00
    box = Mailbox(smtp_server)
    assert run_scan(vn(2026, 12, 1, 8, 30))["escalations"] == 1  # 24 h 30 late
    # Commune C still sits under a historic district: "province_supervisors" is the province's.
    assert box.recipients() == ["chair_c@test.vn", "commune_committee.c@agency.test", "supervisor_p@test.vn"]
    db.session.refresh(task)
    assert task.escalation_level == 7 and task.next_escalation_at == vn(2026, 12, 1, 8, 0) + timedelta(
        hours=4
    )
    assert run_scan(vn(2026, 12, 1, 12, 0))["escalations"] == 1
    assert _levels(task.id)[-1][0] == 8


def test_the_repeat_interval_and_the_warning_lead_are_settings(app, open_case, world, smtp_server):
    app.config.update(ESCALATION_REPEAT_HOURS="1", ESCALATION_WARN_BEFORE_HOURS="1")
    _, task = _hours_task(open_case, "A", vn(2026, 11, 30, 20, 0))
    assert run_scan(vn(2026, 12, 1, 6, 30))["warnings"] == 0
    assert run_scan(vn(2026, 12, 1, 7, 0))["warnings"] == 1
    run_scan(vn(2026, 12, 1, 8, 0))
    run_scan(vn(2026, 12, 1, 9, 0))
    run_scan(vn(2026, 12, 1, 10, 0))
    assert [level for level, _ in _levels(task.id)] == [1, 2, 3]


# -- working days ---------------------------------------------------------------------------


def test_a_plan_due_friday_reaches_the_chair_on_monday_in_office_hours_not_on_sunday(
    app, open_case, fire, world, smtp_server
):
    case, task = _plan_task(open_case, fire, "A", vn(2026, 12, 4, 23, 59, 59))  # Friday 2026-12-04
    box = Mailbox(smtp_server)
    for moment in (
        vn(2026, 12, 5, 0, 0, 1),
        vn(2026, 12, 5, 10, 0),
        vn(2026, 12, 6, 10, 0),
        vn(2026, 12, 7, 6, 59),
    ):
        assert run_scan(moment)["escalations"] == 0, moment  # the weekend, and Monday before 07:00
    assert box.new() == []

    assert (
        run_scan(vn(2026, 12, 7, 7, 0))["escalations"] == 2
    )  # Monday 07:00: levels 1 (0 days) and 2 (1 day)
    ref = case["reference"]
    assert box.new() == sorted(
        [
            (AGENCY_A, f"[{ref}] Quá hạn: Xây dựng kế hoạch hỗ trợ, can thiệp (Mẫu 04)"),
            (
                "chair_a@test.vn",
                f"[{ref}] Báo cáo quá hạn (cấp 2): Xây dựng kế hoạch hỗ trợ, can thiệp (Mẫu 04)",
            ),
        ]
    )
    assert run_scan(vn(2026, 12, 8, 16, 59))["escalations"] == 0  # Tuesday: 2 working days, not yet 3
    assert run_scan(vn(2026, 12, 9, 7, 0))["escalations"] == 1  # Wednesday: 3 working days after Friday
    assert box.recipients() == ["supervisor_p@test.vn"]
    assert run_scan(vn(2026, 12, 30, 9, 0))["escalations"] == 0  # the top of the ladder: nobody else
    db.session.refresh(task)
    assert task.escalation_level == 3 and task.next_escalation_at is None
    assert [(level, who) for level, who in _levels(task.id)] == [
        (1, [AGENCY_A]),
        (2, ["chair_a@test.vn"]),
        (3, ["supervisor_p@test.vn"]),
    ]


def test_a_level_due_while_the_scan_was_down_waits_for_the_next_opening(
    app, open_case, fire, world, smtp_server
):
    """Level 3 of a plan due Friday comes Wednesday 07:00; a scan first running Wednesday at 18:00
    sends nothing until Thursday 07:00, and a commune under a district tells both units above."""
    _, task = _plan_task(open_case, fire, "C", vn(2026, 12, 4, 23, 59, 59))
    run_scan(vn(2026, 12, 7, 8, 0))
    assert run_scan(vn(2026, 12, 9, 18, 0))["escalations"] == 0
    db.session.refresh(task)
    assert task.next_escalation_at == vn(2026, 12, 10, 7, 0)
    assert run_scan(vn(2026, 12, 10, 7, 0))["escalations"] == 1
    assert _levels(task.id)[-1] == (3, ["supervisor_d@test.vn", "supervisor_p@test.vn"])


def test_working_day_levels_skip_tet_2027(app, open_case, fire, world, smtp_server):
    """A plan due Wednesday 2027-02-03: Tết runs Thursday 4 to Wednesday 10 February 2027, so the
    chair hears on Thursday 2027-02-11 and the supervisors on Monday 2027-02-15."""
    days = rules().working_days
    calendar = load_calendar()
    due = vn(2027, 2, 3, 23, 59, 59)
    assert [days.step_due(due, k, calendar) for k in (1, 2, 3)] == [
        vn(2027, 2, 11, 7, 0),
        vn(2027, 2, 11, 7, 0),
        vn(2027, 2, 15, 7, 0),
    ]
    _, task = _plan_task(open_case, fire, "A", due)
    assert run_scan(vn(2027, 2, 8, 9, 0))["escalations"] == 0  # the third day of Tết: a Monday off
    assert run_scan(vn(2027, 2, 11, 7, 0))["escalations"] == 2


def test_a_working_day_task_is_warned_when_a_quarter_of_its_time_is_left_in_office_hours(
    app, open_case, fire, world, smtp_server
):
    """Given Monday 09:00 to Friday 23:59:59 (about 111 hours), a quarter is left from Thursday
    evening: the agency (only) is warned at the next opening, Friday 07:00."""
    case, task = _plan_task(open_case, fire, "A", vn(2026, 12, 11, 23, 59, 59))
    db.session.execute(update(Task).where(Task.id == task.id).values(created_at=vn(2026, 12, 7, 9, 0)))
    db.session.commit()
    box = Mailbox(smtp_server)
    assert run_scan(vn(2026, 12, 10, 16, 0))["warnings"] == 0  # 32 hours left
    assert run_scan(vn(2026, 12, 10, 21, 0))["warnings"] == 0  # a quarter left, but in the evening
    assert run_scan(vn(2026, 12, 11, 7, 0))["warnings"] == 1
    assert box.new() == [
        (AGENCY_A, f"[{case['reference']}] Sắp đến hạn: Xây dựng kế hoạch hỗ trợ, can thiệp (Mẫu 04)")
    ]
    assert run_scan(vn(2026, 12, 11, 9, 0))["warnings"] == 0


def test_office_hours_and_level_offsets_are_settings(app):
    app.config.update(OFFICE_HOURS="08:00-11:30", ESCALATION_LEVEL_DAYS="0,2,5")
    days = rules().working_days
    assert [level.after for level in days.levels] == [0, 2, 5]
    calendar = load_calendar()
    assert days.step_due(vn(2026, 12, 4, 23, 59, 59), 2, calendar) == vn(2026, 12, 8, 8, 0)
    assert not days.in_office_hours(vn(2026, 12, 8, 11, 30), calendar)
    assert WorkingDaysLadder().in_office_hours(vn(2026, 12, 8, 11, 30), calendar)


def test_supervisors_with_a_digest_get_working_day_levels_in_it_on_the_next_working_morning(
    app, open_case, fire, world, smtp_server
):
    world.users["supervisor_p"].daily_digest = True
    db.session.commit()
    first, _ = _plan_task(open_case, fire, "A", vn(2026, 12, 4, 23, 59, 59))
    second, _ = _plan_task(open_case, fire, "B", vn(2026, 12, 4, 23, 59, 59))
    run_scan(vn(2026, 12, 9, 7, 0))  # Wednesday: level 3 of both
    assert not [m for r, m in smtp_server.messages if "supervisor_p@test.vn" in r]
    items = db.session.scalars(
        select(Notification).where(Notification.recipient == "supervisor_p@test.vn")
    ).all()
    assert len(items) == 2 and {n.next_attempt_at for n in items} == {vn(2026, 12, 10, 7, 0)}

    # The digest is due on Thursday 07:00; the outbox compares with the real clock, so bring it forward.
    db.session.execute(
        update(Notification)
        .where(Notification.recipient == "supervisor_p@test.vn")
        .values(next_attempt_at=datetime.now(VN) - timedelta(minutes=1))
    )
    db.session.commit()
    assert run_scan()["digests"] == 1
    [(_, mail)] = [(r, m) for r, m in smtp_server.messages if "supervisor_p@test.vn" in r]
    assert mail["Subject"] == "Tổng hợp nhiệm vụ quá hạn (2)"
    text = smtp_server.text(mail)
    assert first["reference"] in text and second["reference"] in text


def test_each_task_and_rung_is_mailed_once_however_often_the_scan_runs(
    app, open_case, fire, world, smtp_server
):
    _hours_task(open_case, "A", vn(2026, 11, 30, 20, 0))
    _plan_task(open_case, fire, "B", vn(2026, 12, 4, 23, 59, 59))
    box = Mailbox(smtp_server)
    moment = vn(2026, 12, 1, 4, 0)
    while moment < vn(2026, 12, 10, 12, 0):
        run_scan(moment)
        moment += timedelta(minutes=47)
    sent = Counter(box.new())
    assert sent and set(sent.values()) == {1}


def test_a_report_a_commune_owes_climbs_the_ladder_the_file_declares_for_it(app, world):
    """`reports.escalation` is read like `escalation:` and climbed by the same code: the chair
    the working morning after the due day, the district and the province three working days on."""
    from caseflow.services.directory import Directory
    from caseflow.workflow import current_engine

    ladder = current_engine().definition.lists.reports.escalation
    calendar = load_calendar()
    due = vn(2026, 5, 15, 23, 59, 59)  # a Friday

    def climb(*when: int, seen: int = 0) -> tuple[int, tuple[int, ...]]:
        result = ladder.climb("working_days", due, seen, vn(*when), calendar)
        return result.target, result.steps

    assert climb(2026, 5, 15, 23, 0) == (0, ())
    assert climb(2026, 5, 16, 10, 0) == (0, ())  # Saturday: nothing until the office opens
    assert climb(2026, 5, 18, 7, 0) == (1, (1,))
    assert climb(2026, 5, 19, 16, 0, seen=1) == (1, ())
    assert climb(2026, 5, 20, 7, 0, seen=1) == (2, (2,))
    assert climb(2026, 5, 20, 18, 0, seen=1) == (1, ())  # after office hours: the next morning
    assert climb(2026, 6, 30, 9, 0) == (2, (1, 2))  # found late: each level's audience is told
    directory = Directory()
    who = [
        [r.email for r in directory.resolve(ladder.recipients("working_days", k), world.units["C"])]
        for k in (1, 2)
    ]
    assert who == [["chair_c@test.vn"], ["supervisor_d@test.vn", "supervisor_p@test.vn"]]
    warned = directory.resolve(ladder.warn("working_days"), world.units["C"])
    assert sorted(r.email for r in warned) == ["chair_c@test.vn", "officer_c@test.vn"]
