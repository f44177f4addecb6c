"""Integrity under races and failures: one winner per version, all-or-nothing transitions."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from caseflow.extensions import db
from caseflow.models import Case, CaseEvent, Child, Informant, Notification, Task
from caseflow.services import transition
from tests.conftest import new_case_payload

VERIFY = {"risk_level": "high", "serious_harm": True, "caregiver_is_abuser": False, "findings": "Confirmed"}


def _counts() -> dict[str, int]:
    db.session.rollback()  # read what is committed, not what this session holds
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Case, Child, Informant, Task, CaseEvent, Notification)
    }


def _race(
    app,
    api,
    case: dict,
    callers: list[str],
    trigger: str = "verify",
    data: dict | None = None,
    rendezvous: threading.Barrier | None = None,
) -> list[int]:
    """Fire `trigger` from each caller in its own thread, app context and client, all with the
    version they loaded; returns the status codes."""
    tokens = [api.token(email) for email in callers]
    start = threading.Barrier(len(callers))
    statuses: list[int] = []
    errors: list[BaseException] = []

    def worker(token: str) -> None:
        try:
            with app.app_context():
                client = app.test_client()
                start.wait(timeout=10)
                resp = client.post(
                    f"/api/v1/cases/{case['id']}/transitions",
                    headers={"Authorization": f"Bearer {token}"},
                    json={"trigger": trigger, "version": case["version"], "data": data or VERIFY},
                )
                statuses.append(resp.status_code)
        except BaseException as exc:  # noqa: BLE001 - surfaced in the main thread
            errors.append(exc)
            if rendezvous is not None:
                rendezvous.abort()

    threads = [threading.Thread(target=worker, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return sorted(statuses)


def _assert_verified_once(api, case_id: int) -> None:
    db.session.rollback()
    case = db.session.get(Case, case_id)
    assert case.state == "verified"
    kinds = sorted(t.kind for t in db.session.scalars(select(Task).where(Task.case_id == case_id)))
    assert kinds == [
        "draft_plan",
        "emergency_protection",
        "emergency_protection",
        "evidence_preservation",
        "verify",
    ]
    transitions = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "transition")
    ).all()
    assert len(transitions) == 1


def test_two_officers_firing_at_once_give_one_200_and_one_409(app, api, open_case):
    case = open_case()
    assert _race(app, api, case, ["officer_a@test.vn", "chair_a@test.vn"]) == [200, 409]
    _assert_verified_once(api, case["id"])


def test_two_officers_who_both_passed_the_version_check_give_one_200_and_one_409(
    app, api, open_case, monkeypatch
):
    """Both requests hold the same version when the Machine runs: the database decides."""
    case = open_case()
    both_inside = threading.Barrier(2)
    original = transition.TransitionRun.guards_pass

    def guards_pass(self, definition):
        both_inside.wait(timeout=10)  # both have read the case and passed the version check
        return original(self, definition)

    monkeypatch.setattr(transition.TransitionRun, "guards_pass", guards_pass)
    statuses = _race(app, api, case, ["officer_a@test.vn", "chair_a@test.vn"], rendezvous=both_inside)
    assert statuses == [200, 409]
    _assert_verified_once(api, case["id"])


def test_two_different_triggers_at_once_give_one_winner(app, api, open_case):
    case = open_case()
    tokens_first = _race(app, api, case, ["officer_a@test.vn"], "dismiss", {"reason": "Unfounded"})
    assert tokens_first == [200]
    # The second, with the version it saw before the dismissal, loses.
    assert _race(app, api, case, ["chair_a@test.vn"]) == [409]
    db.session.rollback()
    assert db.session.get(Case, case["id"]).state == "closed"


def test_failure_mid_transition_writes_nothing(api, world, open_case, fire):
    """A commune without a police post (and none above it): verify with serious harm cannot
    route its emergency task, so the whole transition (case, events, tasks, mails) is undone."""
    assert (
        api.post(
            "/api/v1/org-units",
            "admin@test.vn",
            json={"code": "E", "name": "Xã E", "level": "commune", "parent": "P"},
        ).status_code
        == 201
    )
    assert (
        api.post(
            "/api/v1/agencies",
            "admin@test.vn",
            json={
                "code": "E-cc",
                "name": "UBND E",
                "kind": "commune_committee",
                "org_unit": "E",
                "email": "ubnd.e@agency.test",
            },
        ).status_code
        == 201
    )
    case = open_case("A", as_="hotline@test.vn", incident_commune="E")
    assert (
        api.post(
            "/api/v1/users",
            "admin@test.vn",
            json={
                "email": "officer_e@test.vn",
                "name": "Officer E",
                "password": "correct-horse-battery",
                "role": "officer",
                "org_unit": "E",
            },
        ).status_code
        == 201
    )
    before = _counts()
    resp = api.post(
        f"/api/v1/cases/{case['id']}/transitions",
        "officer_e@test.vn",
        json={"trigger": "verify", "version": case["version"], "data": VERIFY},
    )
    assert resp.status_code == 409
    assert "police" in resp.get_json()["error"]["message"]
    # Another request in the same process commits its own work (the read event): the failed
    # transition must not ride along with it.
    detail = api.get(f"/api/v1/cases/{case['id']}", "officer_e@test.vn").get_json()
    assert detail["state"] == "received" and detail["version"] == case["version"]
    assert [(t["kind"], t["status"]) for t in detail["tasks"]] == [("verify", "open")]
    after = _counts()
    assert after == {**before, "case_events": before["case_events"] + 1}  # just the read
    kinds = db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case["id"])).all()
    assert "transition" not in kinds and "task_completed" not in kinds


def test_failure_while_opening_a_case_writes_nothing(api, world):
    """A commune with no committee at all: the verify task cannot be routed, no case is left."""
    assert (
        api.post(
            "/api/v1/org-units",
            "admin@test.vn",
            json={"code": "F", "name": "Xã F", "level": "commune", "parent": "P"},
        ).status_code
        == 201
    )
    before = _counts()
    resp = api.post("/api/v1/cases", "hotline@test.vn", json=new_case_payload("F"))
    assert resp.status_code == 409
    # A later, successful request commits: nothing of the failed intake may come with it.
    assert api.post("/api/v1/cases", "officer_b@test.vn", json=new_case_payload("B")).status_code == 201
    after = _counts()
    assert after["cases"] == before["cases"] + 1
    assert after["children"] == before["children"] + 1
    assert after["informants"] == before["informants"] + 1
    assert {c.incident_commune.code for c in db.session.scalars(select(Case))} == {"B"}


@pytest.mark.parametrize("rounds", [3])
def test_concurrent_task_completion_gives_one_200_and_one_409(app, api, open_case, fire, rounds):
    for _ in range(rounds):
        case = open_case(serious_harm=True)  # an agency's own task: completed by its staff
        [draft] = [
            t for t in case["tasks"] if t["agency"] == "A-police" and t["kind"] == "emergency_protection"
        ]
        tokens = [api.token("police_a@test.vn")] * 2
        start = threading.Barrier(2)
        statuses: list[int] = []
        errors: list[BaseException] = []

        def worker(token: str, task_id: int = draft["id"]) -> None:
            try:
                with app.app_context():
                    client = app.test_client()
                    start.wait(timeout=10)
                    resp = client.post(
                        f"/api/v1/tasks/{task_id}/complete",
                        json={"outcome": "done"},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    statuses.append(resp.status_code)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(t,)) for t in tokens]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        assert sorted(statuses) == [200, 409]


def test_transitions_on_different_cases_at_once_all_succeed(app, api, open_case):
    """One shared Machine and one database file: concurrent work on different cases must not
    collide (no false 409 from a busy SQLite file, no state leaking between cases)."""
    cases = [open_case() for _ in range(4)]
    token = api.token("officer_a@test.vn")
    start = threading.Barrier(len(cases))
    statuses: dict[int, int] = {}
    errors: list[BaseException] = []

    def worker(case: dict) -> None:
        try:
            with app.app_context():
                client = app.test_client()
                start.wait(timeout=10)
                resp = client.post(
                    f"/api/v1/cases/{case['id']}/transitions",
                    headers={"Authorization": f"Bearer {token}"},
                    json={"trigger": "verify", "version": case["version"], "data": VERIFY},
                )
                statuses[case["id"]] = resp.status_code
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(case,)) for case in cases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert statuses == {case["id"]: 200 for case in cases}
    for case in cases:
        _assert_verified_once(api, case["id"])
