"""No mail may carry the child's identity or the informant: every template, every language."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from caseflow.extensions import db
from caseflow.models import Notification, Task
from caseflow.notifications import anchor as anchor_mail
from caseflow.notifications.escalation import rules, run_scan
from caseflow.notifications.render import LOCALES, MESSAGES, render_digest, render_notification
from caseflow.services import audit_anchor
from caseflow.services.calendar import load_calendar
from caseflow.workflow import current_engine

MARKER = f"ZQX{uuid.uuid4().hex[:12]}"


@pytest.fixture
def app_config():
    return {"SWEEP_GRACE_SECONDS": 0}  # the embedded default: no Redis, no MAIL_SERVER, .eml files


def _secret_case(open_case, commune: str = "A", **overrides) -> dict:
    return open_case(
        commune,
        summary=f"Child {MARKER}-name told the teacher",
        child={
            "full_name": f"{MARKER}-name",
            "date_of_birth": "2016-05-01",
            "sex": "female",
            "address": f"{MARKER}-address",
            "school": f"{MARKER}-school",
            "family": f"{MARKER}-family",
        },
        informant={"name": f"{MARKER}-informant", "phone": "0911222333", "consent": True},
        **overrides,
    )


def _plan() -> dict:
    due = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    return {
        "plan": f"Plan for {MARKER}-name",
        "measures": [{"agency": "A-health", "description": f"Check {MARKER}-name at home", "due_at": due}],
    }


def test_no_mail_carries_the_child_or_the_informant(app, api, open_case, fire, world, tmp_path):
    verify = {
        "risk_level": "high",
        "serious_harm": True,
        "caregiver_is_abuser": True,
        "findings": f"{MARKER}-name has bruises",
    }
    rejected = fire(_secret_case(open_case), "verify", "officer_a@test.vn", verify)
    rejected = fire(rejected, "submit_plan", "officer_a@test.vn", _plan())
    fire(rejected, "reject_plan", "chair_a@test.vn", {"reason": f"Ask {MARKER}-name again"})
    closed = fire(
        _secret_case(open_case),
        "verify",
        "officer_a@test.vn",
        {**verify, "serious_harm": False, "caregiver_is_abuser": False},
    )
    closed = fire(
        fire(closed, "submit_plan", "officer_a@test.vn", _plan()), "approve_plan", "chair_a@test.vn"
    )
    [measure] = [t for t in closed["tasks"] if t["kind"] == "measure"]
    assert (
        api.post(
            f"/api/v1/tasks/{measure['id']}/complete",
            "health_a@test.vn",
            json={"outcome": f"Saw {MARKER}-name"},
        ).status_code
        == 200
    )
    closed = api.get(f"/api/v1/cases/{closed['id']}", "officer_a@test.vn").get_json()
    closed = fire(closed, "start_follow_up", "officer_a@test.vn")
    fire(
        closed,
        "close",
        "chair_a@test.vn",
        {"no_longer_at_risk": True, "stable": True, "summary": f"{MARKER}-name is safe"},
    )
    moved = fire(
        _secret_case(open_case),
        "verify",
        "officer_a@test.vn",
        {**verify, "serious_harm": False, "caregiver_is_abuser": False},
    )
    moved = fire(moved, "handover", "officer_a@test.vn", {"residence_commune": "B"})
    moved = fire(moved, "accept_handover", "officer_b@test.vn")
    moved = fire(moved, "handover", "officer_b@test.vn", {"residence_commune": "C"})
    fire(moved, "decline_handover", "chair_c@test.vn", {"reason": f"{MARKER}-name lives here"})
    reported = _secret_case(open_case, as_="hotline@test.vn")  # the hotline hears of each step
    fire(reported, "dismiss", "officer_a@test.vn", {"reason": f"{MARKER}-name is fine"})
    # Overdue and warned work, and a digest, for the ladder's templates.
    world.users["supervisor_p"].daily_digest = True
    db.session.commit()
    _secret_case(open_case, received_at=(datetime.now(UTC) - timedelta(hours=70)).isoformat())
    _secret_case(open_case, "B", received_at=(datetime.now(UTC) - timedelta(hours=11)).isoformat())
    run_scan(datetime.now(UTC) + timedelta(minutes=50))
    # A draft plan far past its deadline, scanned at the next office opening: every working-day
    # level, the province's in the digest; and four hours on, the emergency's repeat reminder.
    plan_task = db.session.scalar(select(Task).where(Task.case_id == moved["id"], Task.kind == "draft_plan"))
    long_ago = datetime.now(UTC) - timedelta(days=10)
    db.session.execute(
        update(Task).where(Task.id == plan_task.id).values(due_at=long_ago, next_escalation_at=long_ago)
    )
    db.session.commit()
    opening = rules().working_days.next_office_moment(datetime.now(UTC) + timedelta(hours=1), load_calendar())
    run_scan(opening)
    run_scan(opening + timedelta(hours=4, minutes=1))
    # The audit anchor's digest, mailed to the province as its outside witness.
    app.config["CASEFLOW_ANCHOR_MAIL"] = True
    assert anchor_mail.witness(audit_anchor.write_anchor(db.session, tmp_path / "anchors")) >= 1
    db.session.execute(
        update(Notification)
        .where(Notification.kind == "digest_item")
        .values(next_attempt_at=datetime.now(UTC) - timedelta(minutes=1))
    )
    db.session.commit()
    run_scan()

    rows = db.session.scalars(select(Notification)).all()
    assert {r.status for r in rows} == {"sent"}
    kinds = {r.context["kind"] if r.kind == "digest_item" else r.kind for r in rows}
    every_kind = set(MESSAGES) | set(current_engine().definition.notifications)
    assert kinds >= every_kind, every_kind - kinds
    assert any(r.kind == "digest_item" for r in rows)
    files = list((Path(app.instance_path) / "mail").glob("*.eml"))
    assert len(files) >= len(rows) - 1  # one digest file for both digest rows
    assert any("digest" in f.name for f in files)
    for path in files:
        raw = path.read_bytes()
        assert MARKER.encode() not in raw, path.name
        assert b"0911222333" not in raw

    # Every template in every language, rendered directly from the rows written above.
    task = db.session.scalar(select(Task).order_by(Task.id))
    with db.session.no_autoflush:
        for locale in LOCALES:
            for kind in sorted(every_kind):
                row = Notification(
                    kind=kind,
                    case_id=task.case_id,
                    task_id=task.id,
                    level=2,
                    recipient="x@test.vn",
                    locale=locale,
                    context={"unit_id": world.units["P"].id},
                )
                rendered = render_notification(db.session, row)
                for part in (rendered.subject, rendered.text, rendered.html):
                    assert MARKER not in part and "0911222333" not in part
            digest = render_digest(db.session, [r for r in rows if r.task_id], locale)
            for part in (digest.subject, digest.text, digest.html):
                assert MARKER not in part
    db.session.rollback()
