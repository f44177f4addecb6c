"""The overdue dashboard reads counters and the tasks' copy of their case's communes: both must
agree with a recount from the cases after every change that opens, closes or moves a case."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, update

from caseflow.extensions import db
from caseflow.models import Agency, Case, OpenCaseCount, OrgUnit, Task, User
from caseflow.services import access
from caseflow.workflow import current_engine
from caseflow.workflow.clock import LOCAL_TZ
from tests.conftest import new_case_payload

VERIFY_SERIOUS = {
    "risk_level": "high",
    "serious_harm": True,
    "caregiver_is_abuser": False,
    "findings": "Seen",
}
VERIFY_MILD = {"risk_level": "low", "serious_harm": False, "caregiver_is_abuser": False, "findings": "Ok"}
USERS = (
    "supervisor_p",
    "supervisor_d",
    "officer_a",
    "chair_a",
    "officer_b",
    "officer_c",
    "hotline",
    "police_a",
    "health_a",
    "health_b",
    "education_c",
)


def _plan(*agencies: str) -> dict:
    due = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    return {
        "plan": "Support plan",
        "measures": [
            {"agency": code, "description": f"Measure by {code}", "due_at": due} for code in agencies
        ],
    }


def _terminal() -> list[str]:
    return [s.name for s in current_engine().definition.states.values() if s.terminal]


def _recount(user: User) -> dict:
    """The dashboard computed the straightforward way: from the cases, joined to their tasks."""
    now = datetime.now(UTC)
    open_cases = dict(
        db.session.execute(
            select(Case.residence_commune_id, func.count())
            .where(access.case_scope(user), Case.state.not_in(_terminal()))
            .group_by(Case.residence_commune_id)
        ).all()
    )
    rows = db.session.execute(
        select(Case.residence_commune_id, Task.agency_id, func.count())
        .join(Case, Task.case_id == Case.id)
        .where(access.task_scope(user), Task.status == "open", Task.due_at < now)
        .group_by(Case.residence_commune_id, Task.agency_id)
    ).all()
    by_unit: dict[int, int] = {}
    by_agency: dict[int, int] = {}
    for unit, agency, n in rows:
        by_unit[unit] = by_unit.get(unit, 0) + n
        by_agency[agency] = by_agency.get(agency, 0) + n
    code = {u.id: u.code for u in db.session.scalars(select(OrgUnit))}
    agency_code = {a.id: a.code for a in db.session.scalars(select(Agency))}
    return {
        "units": {code[i]: (open_cases.get(i, 0), by_unit.get(i, 0)) for i in set(open_cases) | set(by_unit)},
        "agencies": {agency_code[i]: n for i, n in by_agency.items()},
    }


def _check(api) -> None:
    """Counters, tasks' communes and every role's dashboard against a recount from the cases."""
    # Every open task overdue, so the overdue counts cover all of them.
    db.session.execute(
        update(Task).where(Task.status == "open").values(due_at=datetime.now(UTC) - timedelta(hours=1))
    )
    db.session.commit()
    counters = {
        (r.incident_commune_id, r.residence_commune_id): r.open_cases
        for r in db.session.scalars(select(OpenCaseCount))
        if r.open_cases
    }
    recount = {
        (i, r): n
        for i, r, n in db.session.execute(
            select(Case.incident_commune_id, Case.residence_commune_id, func.count())
            .where(Case.state.not_in(_terminal()))
            .group_by(Case.incident_commune_id, Case.residence_commune_id)
        ).all()
    }
    assert counters == recount
    assert db.session.scalar(select(func.min(OpenCaseCount.open_cases))) >= 0
    astray = db.session.scalar(
        select(func.count())
        .select_from(Task)
        .join(Case, Task.case_id == Case.id)
        .where(
            or_(
                Task.incident_commune_id.is_(None),
                Task.residence_commune_id.is_(None),
                Task.incident_commune_id != Case.incident_commune_id,
                Task.residence_commune_id != Case.residence_commune_id,
                Task.case_received_at != Case.received_at,
            )
        )
    )
    assert astray == 0
    for key in USERS:
        email = f"{key}@test.vn"
        dash = api.get("/api/v1/dashboard/overdue", email).get_json()
        got = {
            "units": {r["code"]: (r["open_cases"], r["overdue_tasks"]) for r in dash["by_org_unit"]},
            "agencies": {r["code"]: r["overdue_tasks"] for r in dash["by_agency"]},
        }
        user = db.session.scalar(select(User).where(User.email == email))
        assert got == _recount(user), key
        assert _overdue_list(api, email) == _overdue_recount(user), key


def _overdue_list(api, email: str) -> dict:
    """The overdue case list as the API gives it, two cases a page, and the plain list's counts."""
    pages, page = [], 1
    while True:
        body = api.get(f"/api/v1/cases?overdue=true&per_page=2&page={page}", email).get_json()
        pages.append(body)
        if page * 2 >= body["total"]:
            break
        page += 1
    listed = api.get("/api/v1/cases?per_page=100", email).get_json()["items"]
    return {
        "total": pages[0]["total"],
        "overdue": [(c["id"], c["overdue_tasks"]) for body in pages for c in body["items"]],
        "listed": [(c["id"], c["overdue_tasks"]) for c in listed],
    }


def _overdue_recount(user: User) -> dict:
    """The same from the cases: by receipt then id, newest first, with their open overdue tasks."""
    now = datetime.now(UTC)
    overdue = (
        select(Task.case_id, func.count().label("n"))
        .where(Task.status == "open", Task.due_at < now)
        .group_by(Task.case_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Case.id, func.coalesce(overdue.c.n, 0))
        .outerjoin(overdue, overdue.c.case_id == Case.id)
        .where(access.case_scope(user))
        .order_by(Case.received_at.desc(), Case.id.desc())
    ).all()
    listed = [(case_id, n) for case_id, n in rows]
    return {
        "total": sum(1 for _, n in listed if n),
        "overdue": [(case_id, n) for case_id, n in listed if n],
        "listed": listed,
    }


def _reload(api, case: dict) -> dict:
    return api.get(f"/api/v1/cases/{case['id']}", "supervisor_p@test.vn").get_json()


def test_counts_follow_intake_close_reopen_dismiss_and_handover(api, open_case, fire):
    moved = open_case("A", residence_commune="B")  # happened in A, the child lives in B
    hotline = open_case("C", as_="hotline@test.vn")
    dismissed = open_case("B")
    closing = open_case("A")
    _check(api)

    moved = fire(moved, "verify", "officer_a@test.vn", VERIFY_SERIOUS)  # police and health tasks in A
    _check(api)
    moved = fire(moved, "handover", "officer_b@test.vn", {"residence_commune": "C"})
    assert moved["residence_commune"] == "B"  # until C accepts
    _check(api)
    moved = fire(moved, "accept_handover", "officer_c@test.vn")
    assert moved["residence_commune"] == "C"
    _check(api)
    hotline = fire(hotline, "handover", "officer_c@test.vn", {"residence_commune": "A"})  # while received
    hotline = fire(hotline, "accept_handover", "chair_a@test.vn")
    _check(api)

    dismissed = fire(dismissed, "dismiss", "officer_b@test.vn", {"reason": "Unfounded"})
    _check(api)
    dismissed = fire(dismissed, "reopen", "chair_b@test.vn", {"reason": "New evidence"})
    _check(api)

    closing = fire(closing, "verify", "officer_a@test.vn", VERIFY_MILD)
    closing = fire(closing, "submit_plan", "officer_a@test.vn", _plan("A-health"))
    closing = fire(closing, "approve_plan", "chair_a@test.vn")
    _check(api)
    [measure] = [t for t in closing["tasks"] if t["status"] == "open" and t["kind"] == "measure"]
    assert (
        api.post(
            f"/api/v1/tasks/{measure['id']}/complete", "health_a@test.vn", json={"outcome": "done"}
        ).status_code
        == 200
    )
    closing = fire(_reload(api, closing), "start_follow_up", "officer_a@test.vn")
    closing = fire(
        closing, "close", "chair_a@test.vn", {"no_longer_at_risk": True, "stable": True, "summary": "Safe"}
    )
    assert closing["state"] == "closed"
    _check(api)
    closing = fire(closing, "reopen", "chair_a@test.vn", {"reason": "Relapse"})
    closing = fire(closing, "handover", "officer_a@test.vn", {"residence_commune": "B"})
    _check(api)
    dash = api.get("/api/v1/dashboard/overdue", "supervisor_p@test.vn").get_json()
    assert sum(r["open_cases"] for r in dash["by_org_unit"]) == 4


def test_a_refused_transition_leaves_the_counters_alone(api, open_case, fire):
    case = open_case("A")
    fire(case, "dismiss", "officer_a@test.vn", {"reason": "x"})
    fire(case, "dismiss", "officer_a@test.vn", {"reason": "again, with the old version"}, expect=409)
    _check(api)


def test_concurrent_intakes_and_dismissals_in_one_commune_add_up(app, api, world, open_case):
    """Counter changes are atomic increments: racing transactions on one counter row all count."""
    dismiss = [open_case("A") for _ in range(3)]
    tokens = {
        email: api.token(email) for email in ("officer_a@test.vn", "chair_a@test.vn", "hotline@test.vn")
    }
    start = threading.Barrier(6)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def worker(email: str, method: str, url: str, body: dict) -> None:
        try:
            with app.app_context():
                client = app.test_client()
                start.wait(timeout=10)
                resp = client.open(
                    url, method=method, json=body, headers={"Authorization": f"Bearer {tokens[email]}"}
                )
                statuses.append(resp.status_code)
        except BaseException as exc:  # noqa: BLE001 - surfaced in the main thread
            errors.append(exc)

    jobs = [
        ("officer_a@test.vn", "POST", "/api/v1/cases", new_case_payload("A")),
        ("chair_a@test.vn", "POST", "/api/v1/cases", new_case_payload("A")),
        ("hotline@test.vn", "POST", "/api/v1/cases", new_case_payload("A")),
    ]
    jobs += [
        (
            email,
            "POST",
            f"/api/v1/cases/{case['id']}/transitions",
            {"trigger": "dismiss", "version": case["version"], "data": {"reason": "Unfounded"}},
        )
        for email, case in zip(
            ("officer_a@test.vn", "chair_a@test.vn", "officer_a@test.vn"), dismiss, strict=True
        )
    ]
    threads = [threading.Thread(target=worker, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    db.session.rollback()
    # Each request either committed or was refused whole (SQLite may answer 409 to a locked writer).
    assert set(statuses) <= {200, 201, 409}, statuses
    _check(api)


def test_the_overdue_list_follows_receipt_through_backdated_intakes_reopening_and_a_merger(
    api, open_case, fire
):
    """Tasks copy their case's receipt: a report entered late (received before cases opened
    earlier) lists by receipt, and the copy holds on the tasks a reopening and a merger make or move."""
    now = datetime.now(UTC)
    recent = open_case("A", received_at=(now - timedelta(hours=2)).isoformat())
    late_entry = open_case("B", received_at=(now - timedelta(days=3)).isoformat())
    same_moment = (now - timedelta(days=1)).isoformat()
    twins = [open_case("A", received_at=same_moment), open_case("C", received_at=same_moment)]
    _check(api)  # every open task overdue: all four listed, newest receipt first, ties by id
    body = api.get("/api/v1/cases?overdue=true&per_page=50", "supervisor_p@test.vn").get_json()
    assert [c["id"] for c in body["items"]] == [
        recent["id"],
        twins[1]["id"],
        twins[0]["id"],
        late_entry["id"],
    ]

    late_entry = fire(late_entry, "dismiss", "officer_b@test.vn", {"reason": "Unfounded"})
    _check(api)
    late_entry = fire(late_entry, "reopen", "chair_b@test.vn", {"reason": "New evidence"})
    late_entry = fire(late_entry, "verify", "officer_b@test.vn", VERIFY_SERIOUS)  # new tasks, old receipt
    _check(api)
    received = db.session.scalar(select(Case.received_at).where(Case.id == late_entry["id"]))
    copies = set(db.session.scalars(select(Task.case_received_at).where(Task.case_id == late_entry["id"])))
    assert copies == {received} and len(late_entry["tasks"]) > 1

    today = datetime.now(LOCAL_TZ).date().isoformat()
    resp = api.post("/api/v1/org-units/A/merge", "admin@test.vn", json={"into": "B", "on": today})
    assert resp.status_code == 200, resp.get_json()
    _check(api)
