"""The demo tells a consistent story: every time agrees with the report's receipt and the trail,
and the tour's cases are where the README says."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from caseflow import demo
from caseflow.extensions import db
from caseflow.models import Case, CaseEvent
from caseflow.services.calendar import load_calendar
from caseflow.workflow.clock import LOCAL_TZ

SLACK = timedelta(seconds=5)  # the steps of one story run a few milliseconds apart


def test_the_demo_seed_keeps_receipt_deadlines_and_trail_consistent(app):
    for _ in demo.seed():
        pass
    cases = db.session.scalars(select(Case).order_by(Case.id)).all()
    calendar = load_calendar()
    definition = app.extensions["caseflow_engine"].definition
    assert set(Counter(c.state for c in cases)) == set(definition.states)  # every state
    for case in cases:
        events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
        created = next(e for e in events if e.kind == "created")
        assert abs(created.at - case.received_at) < SLACK, case.reference
        assert all(e.at >= case.received_at - SLACK for e in events), case.reference
        for task in case.tasks:
            assert task.due_at > case.received_at, (case.reference, task.kind)
            assert task.case_received_at == case.received_at, (case.reference, task.kind)  # moved back too
            [assigned] = [e for e in events if e.kind == "task_created" and e.data["task_id"] == task.id]
            assert assigned.data["due_at"] == task.due_at.isoformat(), (case.reference, task.kind)
            rule = definition.tasks[task.template].deadline
            if rule.hours is not None:
                assert task.due_at == case.received_at + timedelta(hours=rule.hours)
            if rule.working_days is not None:  # ends a working day at 23:59:59 local time
                local = task.due_at.astimezone(LOCAL_TZ)
                assert (local.hour, local.minute) == (23, 59) and calendar.is_working_day(local.date())

    emergency, awaiting, dismissed = cases[0], cases[1], cases[2]
    police = [t for t in emergency.tasks if t.kind == "emergency_protection"]
    assert police and all(t.status == "open" and t.due_at < demo.utcnow() for t in police)
    assert awaiting.state == "planned"
    assert dismissed.state == "closed" and dismissed.closure_reason
