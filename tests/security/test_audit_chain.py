"""The trail is tamper-evident: each event is hashed with the one before it in its case."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from caseflow.extensions import db
from caseflow.models import AdminEvent, CaseEvent
from caseflow.services import admin_audit, audit_chain


def _verify(runner):
    return runner.invoke(args=["caseflow", "verify-audit"])


def _events(case_id: int) -> list[CaseEvent]:
    return list(
        db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq))
    )


def test_every_event_is_chained_to_the_one_before_in_its_case(app, runner, identity_case):
    events = _events(identity_case["id"])
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash is None
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    result = _verify(runner)
    assert result.exit_code == 0, result.output


def _rewrite(backend: str, statement: str, **params) -> None:
    if backend == "postgres":
        audit_chain.allow_rewrite(db.session)  # as an attacker with the database would
    db.session.execute(text(statement), params)
    db.session.commit()


def test_an_event_rewritten_in_sql_makes_verify_audit_fail_naming_it(app, runner, backend, identity_case):
    events = _events(identity_case["id"])
    target = events[2]
    _rewrite(backend, "UPDATE case_events SET actor_label = 'someone else' WHERE id = :id", id=target.id)
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"event #{target.seq} (id {target.id}) was changed" in result.output
    assert identity_case["reference"] in result.output


def test_an_event_removed_in_sql_makes_verify_audit_fail_naming_the_gap(app, runner, backend, identity_case):
    events = _events(identity_case["id"])
    _rewrite(backend, "DELETE FROM case_events WHERE id = :id", id=events[1].id)
    result = _verify(runner)
    assert result.exit_code == 1
    assert "event #2" in result.output and "was removed" in result.output


def test_an_event_inserted_past_caseflow_is_named(app, runner, backend, identity_case, sql):
    sql(
        "INSERT INTO case_events (case_id, at, kind, data) VALUES (:c, CURRENT_TIMESTAMP, 'note', '{}')",
        c=identity_case["id"],
    )
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1 and "added outside CaseFlow" in result.output


def test_postgres_refuses_update_and_delete_of_the_trail(app, backend, identity_case):
    if backend != "postgres":
        pytest.skip("the trigger is PostgreSQL's")
    for statement in ("UPDATE case_events SET kind = 'note'", "DELETE FROM case_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    admin_audit.admin_event(db.session, "calendar.edited", "calendar:2026-02-16")
    db.session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("DELETE FROM admin_events"))
    db.session.rollback()


def test_concurrent_writers_on_one_case_never_fork_its_chain(app, runner, api, backend, identity_case):
    """Reads, notes and a transition at once: each event gets its own place after the last."""
    case_id = identity_case["id"]
    tokens = {who: api.token(who) for who in ("officer_a@test.vn", "chair_a@test.vn")}
    errors: list[object] = []
    start = threading.Barrier(6)

    def work(i: int) -> None:
        client = app.test_client()
        who = "officer_a@test.vn" if i % 2 else "chair_a@test.vn"
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        start.wait()
        for n in range(4):
            if n % 2:
                resp = client.post(
                    f"/api/v1/cases/{case_id}/notes", json={"text": f"n{i}.{n}"}, headers=headers
                )
                ok = resp.status_code == 201
            else:
                resp = client.get(f"/api/v1/cases/{case_id}", headers=headers)
                ok = resp.status_code == 200
            if not ok and not (backend == "sqlite" and resp.status_code == 409):
                errors.append((resp.status_code, resp.get_data(as_text=True)[:200]))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    db.session.remove()
    assert not errors, errors
    seqs = [e.seq for e in _events(case_id)]
    assert seqs == list(range(1, len(seqs) + 1))
    result = _verify(runner)
    assert result.exit_code == 0, result.output


def test_admin_events_are_chained_and_verified(app, runner, backend, world):
    admin_audit.admin_event(db.session, "user.role_changed", "user:1", role="chair")
    admin_audit.admin_event(db.session, "calendar.edited", "calendar:2026-02-16")
    db.session.commit()
    rows = list(db.session.scalars(select(AdminEvent).order_by(AdminEvent.seq)))
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert all(after.prev_hash == before.hash for before, after in zip(rows, rows[1:], strict=False))
    assert _verify(runner).exit_code == 0
    _rewrite(backend, 'UPDATE admin_events SET data = \'{"role": "admin"}\' WHERE seq = :s', s=rows[-2].seq)
    result = _verify(runner)
    assert result.exit_code == 1 and "administration" in result.output


def test_admin_actions_through_the_api_are_on_the_admin_trail_with_who_did_them(app, api, world):
    resp = api.post(
        "/api/v1/users",
        "admin@test.vn",
        json={
            "email": "new@test.vn",
            "name": "Mới",
            "password": "a-long-enough-passphrase",
            "role": "officer",
            "org_unit": "A",
        },
    )
    assert resp.status_code == 201, resp.get_json()
    resp = api.put("/api/v1/calendar/2026-12-24", "admin@test.vn", json={"kind": "holiday", "name": "Thử"})
    assert resp.status_code == 200, resp.get_json()
    rows = list(db.session.scalars(select(AdminEvent).where(AdminEvent.actor_label == "admin@test.vn")))
    actions = {(r.action, r.target) for r in rows}
    assert ("user.created", "user:new@test.vn") in actions
    assert ("calendar.created", "calendar:2026-12-24") in actions
    created = next(r for r in rows if r.action == "user.created")
    assert created.data["role"] == "officer" and created.data["password_hash"] == "(changed)"


def test_every_kind_of_admin_act_is_on_the_admin_trail_with_who_did_it(app, api, world):
    """Before: admin actions left no record. Units, agencies, mergers, deactivations and mail
    retries, through the API and the pages, each leave a chained event naming the admin."""
    from caseflow.models import Notification
    from tests.web.conftest import Browser

    assert (
        api.post(
            "/api/v1/org-units",
            "admin@test.vn",
            json={"code": "N1", "name": "Xã Mới", "level": "commune", "parent": "P"},
        ).status_code
        == 201
    )
    agency = {
        "code": "N1-police",
        "name": "Công an Xã Mới",
        "kind": "police",
        "org_unit": "N1",
        "email": "n1@a.test",
    }
    assert api.post("/api/v1/agencies", "admin@test.vn", json=agency).status_code == 201
    merged = api.post("/api/v1/org-units/C/merge", "admin@test.vn", json={"into": "B", "on": "2025-07-01"})
    assert merged.status_code == 200, merged.get_json()
    failed = Notification(
        dedupe_key="t:9", kind="task_created", recipient="x@a.test", status="failed", attempts=5
    )
    db.session.add(failed)
    db.session.commit()
    admin = Browser(app.test_client())
    assert admin.login("admin@test.vn").status_code == 302
    officer_id = world.users["officer_a"].id
    assert admin.post(f"/admin/users/{officer_id}/deactivate", token_from="/admin/users").status_code == 302
    retried = admin.post(f"/admin/notifications/{failed.id}/retry", token_from="/admin/notifications")
    assert retried.status_code == 302
    db.session.expire_all()
    rows = list(db.session.scalars(select(AdminEvent).where(AdminEvent.actor_label == "admin@test.vn")))
    actions = {(r.action, r.target) for r in rows}
    assert ("org_unit.created", "org_unit:N1") in actions
    assert ("agency.created", "agency:N1-police") in actions
    assert ("org_unit.changed", "org_unit:C") in actions  # the merger: its successor and end date
    assert ("user.changed", "user:officer_a@test.vn") in actions
    assert ("notification.retried", f"notification:{failed.id}") in actions
    deactivated = next(r for r in rows if r.target == "user:officer_a@test.vn")
    assert deactivated.data == {"active": False}
    assert audit_chain.verify_admin(db.session) is None
