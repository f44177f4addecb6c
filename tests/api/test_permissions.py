"""Who may see and do what: every /api/v1 endpoint walked with every role, inside and outside
the caller's jurisdiction, looking for leaks of cases, tasks and the child's identity."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from caseflow.extensions import db
from caseflow.models import ApiToken, Task
from tests.conftest import PASSWORD, new_case_payload

MARKER = b"qzx"  # in every identity field of every case (ASCII: JSON would escape anything else)
VERIFY_SERIOUS = {
    "risk_level": "high",
    "serious_harm": True,
    "caregiver_is_abuser": False,
    "findings": "Seen",
}
NO_AUTH = {("POST", "/api/v1/auth/token"), ("GET", "/api/v1/openapi.json")}


def _identity(tag: str) -> dict:
    return {
        "child": {
            "full_name": f"Qzx Child {tag}",
            "date_of_birth": "2016-05-01",
            "sex": "female",
            "address": f"Qzx Street {tag}",
        },
        "informant": {"name": f"Qzx Informant {tag}", "phone": "0900 Qzx", "consent": True},
    }


def api_rules(app) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


@dataclass
class Scene:
    """Three cases: `a` in commune A (verified, serious harm: tasks for A's committee, police and
    health), `c` in commune C under the historic district (received), `h` in commune B recorded by
    the provincial hotline (received). Every open task is overdue."""

    cases: dict[str, dict] = field(default_factory=dict)
    tasks: dict[str, dict] = field(default_factory=dict)  # name -> task JSON
    task_case: dict[int, str] = field(default_factory=dict)  # task id -> case key
    attachment: int = 0  # a file attached to case `a`


@pytest.fixture
def scene(api, world, fire) -> Scene:
    s = Scene()
    for key, commune, who in (("a", "A", "officer_a"), ("c", "C", "officer_c"), ("h", "B", "hotline")):
        resp = api.post("/api/v1/cases", f"{who}@test.vn", json=new_case_payload(commune, **_identity(key)))
        assert resp.status_code == 201, resp.get_json()
        s.cases[key] = resp.get_json()
    s.cases["a"] = fire(s.cases["a"], "verify", "officer_a@test.vn", VERIFY_SERIOUS)
    # The hotline sees only its own agency's tasks (none): the commune's view has the task.
    s.cases["h"] = api.get(f"/api/v1/cases/{s.cases['h']['id']}", "officer_b@test.vn").get_json()
    db.session.execute(
        update(Task).where(Task.status == "open").values(due_at=datetime.now(UTC) - timedelta(hours=1))
    )
    db.session.commit()
    for key, case in s.cases.items():
        for task in case["tasks"]:
            s.task_case[task["id"]] = key
    by = {(t["kind"], t["agency"]): t for t in s.cases["a"]["tasks"]}
    pdf = io.BytesIO(b"%PDF-1.4\n% a test file\n")
    resp = api.post(
        f"/api/v1/cases/{s.cases['a']['id']}/attachments",
        "officer_a@test.vn",
        data={"file": (pdf, "scan.pdf"), "kind": "evidence"},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 201, resp.get_json()
    s.attachment = resp.get_json()["id"]
    s.tasks = {
        "police_a": by[("emergency_protection", "A-police")],
        "draft_a": by[("draft_plan", "A-commune_committee")],
        "verify_c": s.cases["c"]["tasks"][0],
        "verify_h": s.cases["h"]["tasks"][0],
    }
    return s


@dataclass(frozen=True)
class Role:
    cases: frozenset[str]  # the scene's cases the role may see
    identity: frozenset[str] = frozenset()  # ... and whose child it may see
    commune: str | None = None  # officers and chairs
    agency: str | None = None  # agency staff
    opens_in: frozenset[str] = frozenset()  # communes (of A, C) where it may record a report


def _r(cases: str, identity: str = "", **kw) -> Role:
    return Role(
        frozenset(cases),
        frozenset(identity),
        **{k: frozenset(v) if k == "opens_in" else v for k, v in kw.items()},
    )


ROLES = {
    "admin": _r(""),
    "supervisor_p": _r("ach"),
    "supervisor_d": _r("c"),
    "hotline": _r("h", agency="P-hotline", opens_in="AC"),
    "officer_a": _r("a", "a", commune="A", opens_in="A"),
    "chair_a": _r("a", "a", commune="A", opens_in="A"),
    "police_a": _r("a", "a", agency="A-police", opens_in="A"),
    "health_a": _r("a", "a", agency="A-health"),
    "education_a": _r("", agency="A-education"),
    "officer_b": _r("h", "h", commune="B"),
    "chair_b": _r("h", "h", commune="B"),
    "police_b": _r("", agency="B-police"),
    "officer_c": _r("c", "c", commune="C", opens_in="C"),
    "chair_c": _r("c", "c", commune="C", opens_in="C"),
    "police_c": _r("", agency="C-police", opens_in="C"),
}
CASE_COMMUNE = {"a": "A", "c": "C", "h": "B"}


def _visible_task(role: Role, scene: Scene, task: dict) -> bool:
    """Agency staff see their agency's tasks; everybody else the tasks of the cases they see."""
    if role.agency:
        return task["agency"] == role.agency
    return scene.task_case[task["id"]] in role.cases


STEP_TASKS = {"verify", "draft_plan"}


def _may_complete(role: Role, task: dict) -> bool:
    if role.agency:
        return task["agency"] == role.agency
    return bool(role.commune) and task["agency"] == f"{role.commune}-commune_committee"


class Walker:
    """Calls the API as one user and records which /api/v1 rules were exercised."""

    def __init__(self, app, api, email: str) -> None:
        self.adapter = app.url_map.bind("localhost")
        self.api, self.email, self.seen = api, email, set()

    def __call__(self, method: str, url: str, expect: int, **kw):
        path = url.split("?")[0]
        rule, _ = self.adapter.match(path, method=method, return_rule=True)
        self.seen.add((method, rule.rule))
        if (method, rule.rule) in NO_AUTH:
            resp = self.api.client.open(url, method=method, **kw)
        else:
            resp = self.api.call(method, url, self.email, **kw)
        assert resp.status_code == expect, (method, url, self.email, resp.status_code, resp.get_data(True))
        return resp


def _no_marker(resp, what: str) -> None:
    assert MARKER not in resp.get_data().lower(), f"child identity leaked in {what}"


def test_every_endpoint_with_every_role(app, api, scene):
    """One scene for all roles (a scene per role costs more than the walk): every role reads
    first, then every role writes, so no role's write changes what another role reads."""
    walkers = {who: Walker(app, api, f"{who}@test.vn") for who in sorted(ROLES)}
    for who, call in walkers.items():
        _read_walk(call, who, scene)
    completed: set[int] = set()
    for who, call in walkers.items():
        _write_walk(call, who, scene, completed)
    for who, call in walkers.items():
        assert call.seen == api_rules(app), f"an /api/v1 endpoint is missing from the walk of {who}"


def _read_walk(call: Walker, who: str, scene: Scene) -> None:
    role, email = ROLES[who], call.email

    # -- who am I, what is the procedure, reference data ------------------------------------
    assert call("GET", "/api/v1/me", 200).get_json()["email"] == email
    call("GET", "/api/v1/workflow", 200)
    call("GET", "/api/v1/openapi.json", 200)
    token = call("POST", "/api/v1/auth/token", 200, json={"email": email, "password": PASSWORD})
    assert token.get_json()["token"]
    for url in ("/api/v1/org-units", "/api/v1/agencies"):
        _no_marker(call("GET", url, 200), url)
    _no_marker(call("GET", "/api/v1/users", 200 if who == "admin" else 403), "users")

    # -- cases: lists never carry identity, details only for the bodies handling the case -----
    listed = call("GET", "/api/v1/cases?per_page=200", 200)
    _no_marker(listed, "case list")
    assert {item["id"] for item in listed.get_json()["items"]} == {scene.cases[k]["id"] for k in role.cases}
    _no_marker(call("GET", "/api/v1/cases?overdue=true", 200), "overdue case list")
    for key, case in scene.cases.items():
        base = f"/api/v1/cases/{case['id']}"
        visible = key in role.cases
        detail = call("GET", base, 200 if visible else 404)
        if key in role.identity:
            assert detail.get_json()["child"]["full_name"] == f"Qzx Child {key}"
            assert MARKER in detail.get_data().lower()
        else:
            assert "child" not in (detail.get_json() or {})
            _no_marker(detail, f"case {key} detail")
        # The audit trail is not for agency staff (services/visibility.py), as on their pages.
        trail_ok = 403 if role.agency else 200
        events = call("GET", f"{base}/events", trail_ok if visible else 404)
        _no_marker(events, f"case {key} events")
        # The dossier: the communes handling the case and their supervisors, never agency staff.
        dossier = 404 if not visible else 403 if role.agency else 200
        forms = call("GET", f"{base}/forms", dossier)
        revisions = call("GET", f"{base}/forms/mau_01/revisions", dossier)
        if dossier == 200 and key in role.identity:
            assert MARKER in forms.get_data().lower()
        else:
            _no_marker(forms, f"case {key} forms")
            _no_marker(revisions, f"case {key} form revisions")
        call("GET", f"{base}/documents/mau_01.docx", dossier)
        _no_marker(call("GET", f"{base}/attachments", dossier), f"case {key} attachments")
        attachment = scene.attachment if key == "a" else 2**31 - 1
        call(
            "GET",
            f"{base}/attachments/{attachment}",
            dossier if key == "a" else 404 if dossier == 200 else dossier,
        )
        # approve_plan is allowed in none of the scene's states: a 409 shows the caller got past
        # every permission check, a 403 that the role may not, a 404 that the case is out of reach.
        owner_chair = who.startswith("chair_") and role.commune == CASE_COMMUNE[key]
        expect = 404 if not visible else 409 if owner_chair else 403
        call(
            "POST",
            f"{base}/transitions",
            expect,
            json={"trigger": "approve_plan", "version": case["version"], "data": {}},
        )
        # Personal data (services/personal_data.py): the export is the chair's, the access log the
        # chair's and the supervisors'; the role is checked before the reach.
        call("GET", f"{base}/export", 403 if who.split("_")[0] != "chair" else 200 if visible else 404)
        log_roles = ("chair", "supervisor")
        call(
            "GET",
            f"{base}/access-log",
            403 if who.split("_")[0] not in log_roles else 200 if visible else 404,
        )

    # -- tasks ------------------------------------------------------------------------------------
    all_tasks = [t for case in scene.cases.values() for t in case["tasks"]]
    expected_tasks = {t["id"] for t in all_tasks if _visible_task(role, scene, t)}
    for url in ("/api/v1/tasks?per_page=200", "/api/v1/tasks?status=open&overdue=true"):
        resp = call("GET", url, 200)
        _no_marker(resp, url)
        ids = {t["id"] for t in resp.get_json()["items"]}
        assert ids <= expected_tasks
        if "status" not in url:
            assert ids == expected_tasks
    dashboard = call("GET", "/api/v1/dashboard/overdue", 403 if who == "admin" else 200)
    _no_marker(dashboard, "dashboard")
    call("GET", "/api/v1/forms", 200)
    if who != "admin":
        body = dashboard.get_json()
        assert {row["code"] for row in body["by_org_unit"]} == {CASE_COMMUNE[k] for k in role.cases}
        open_visible = [t for t in all_tasks if t["id"] in expected_tasks and t["status"] == "open"]
        assert {row["code"] for row in body["by_agency"]} == {t["agency"] for t in open_visible}
        assert sum(row["overdue_tasks"] for row in body["by_agency"]) == len(open_visible)

    # -- reports: the caller's own unit, another unit as a 404, never identity -----------------
    reporter = who.startswith(("supervisor", "officer", "chair"))
    own = role.commune or {"supervisor_p": "P", "supervisor_d": "D"}.get(who, "A")
    period = "from=2026-01-01&to=2026-12-31"
    report = call("GET", f"/api/v1/reports/periodic?org_unit={own}&{period}", 200 if reporter else 403)
    _no_marker(report, "periodic report")
    if reporter:
        other = "B" if own != "B" else "A"
        outside = 200 if who == "supervisor_p" else 404
        call("GET", f"/api/v1/reports/periodic?org_unit={other}&{period}&format=csv", outside)
    call("GET", "/api/v1/reports/obligations?year=2031", 200 if reporter else 403)
    _no_marker(call("GET", "/api/v1/reports/adhoc", 200 if who.startswith("supervisor") else 403), "adhoc")

    # -- calendar -------------------------------------------------------------------------------
    call("GET", "/api/v1/calendar?year=2026", 200)
    call("GET", "/api/v1/calendar/due?start=2026-03-06T09:00:00Z&working_days=1", 200)


def _write_walk(call: Walker, who: str, scene: Scene, completed: set[int]) -> None:
    """Notes, task completion (a task done by an earlier role is a 409 for a later one that
    may complete it), new reports and reference data; admin-only calls refuse everyone else."""
    role, admin = ROLES[who], who == "admin"
    call("PUT", "/api/v1/calendar/2030-01-02", 200 if admin else 403, json={"kind": "holiday", "name": "x"})
    call("DELETE", "/api/v1/calendar/2030-01-02", 204 if admin else 403)
    for key, case in scene.cases.items():
        call(
            "POST",
            f"/api/v1/cases/{case['id']}/notes",
            201 if key in role.cases else 404,
            json={"text": f"note by {who}"},
        )
    for key, case in scene.cases.items():
        base = f"/api/v1/cases/{case['id']}"
        writer = who.startswith(("officer_", "chair_")) and role.commune == CASE_COMMUNE[key]
        expect = 404 if key not in role.cases else 422 if writer else 403  # 422: past every check
        call("PUT", f"{base}/forms/needs_meeting", expect, json={"data": {"shoe_size": 1}, "revision": 0})
        call("POST", f"{base}/attachments", expect, data={"kind": "evidence"})
        # Corrections and disclosures: the commune handling the case; an empty body shows the
        # caller got past every permission check (422), without changing anything.
        commune_role = role.commune is not None
        expect = 403 if not commune_role else 422 if key in role.cases else 404
        call("POST", f"/api/v1/cases/{case['id']}/child/corrections", expect, json={})
        call("POST", f"/api/v1/cases/{case['id']}/disclosures", expect, json={})
    for name, task in scene.tasks.items():
        if not _visible_task(role, scene, task):
            expect = 404
        elif not _may_complete(role, task):
            expect = 403
        elif task["kind"] in STEP_TASKS:  # finished by firing its step, never "mark as done"
            expect = 409
        else:
            expect = 409 if task["id"] in completed else 200
            completed.add(task["id"])
        call("POST", f"/api/v1/tasks/{task['id']}/complete", expect, json={"outcome": f"{name} by {who}"})
    if role.commune:  # the first report its commune owes: the chair finds it submitted by the officer
        first = call("GET", "/api/v1/reports/obligations?year=2031", 200).get_json()["items"][0]["id"]
        call(
            "POST",
            f"/api/v1/reports/obligations/{first}/submit",
            409 if ("report", first) in completed else 200,
        )
        completed.add(("report", first))
    else:
        call("POST", "/api/v1/reports/obligations/1/submit", 403)
    for commune in ("A", "C"):
        created = call(
            "POST", "/api/v1/cases", 201 if commune in role.opens_in else 403, json=new_case_payload(commune)
        )
        if created.status_code == 201:
            assert created.get_json()["incident_commune"] == commune
    call(
        "POST",
        "/api/v1/org-units",
        201 if admin else 403,
        json={"code": f"N-{who}", "name": "New", "level": "commune", "parent": "P"},
    )
    # Merging a unit into itself: refused as 422 for the admin, 403 for every other role.
    call("POST", "/api/v1/org-units/A/merge", 422 if admin else 403, json={"into": "A", "on": "2025-07-01"})
    call(
        "POST",
        "/api/v1/agencies",
        201 if admin else 403,
        json={
            "code": f"AG-{who}",
            "name": "New",
            "kind": "police",
            "org_unit": "A",
            "email": "n@agency.test",
        },
    )
    call(
        "POST",
        "/api/v1/users",
        201 if admin else 403,
        json={
            "email": f"new.{who}@test.vn",
            "name": "New",
            "password": PASSWORD,
            "role": "officer",
            "org_unit": "A",
        },
    )


def test_walk_covers_exactly_the_known_endpoints(app):
    """A new endpoint must be added to the walk above (and so to this list) on purpose."""
    assert api_rules(app) == {
        ("POST", "/api/v1/auth/token"),
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/workflow"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/api/v1/org-units"),
        ("POST", "/api/v1/org-units"),
        ("POST", "/api/v1/org-units/<code>/merge"),
        ("GET", "/api/v1/agencies"),
        ("POST", "/api/v1/agencies"),
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/users"),
        ("GET", "/api/v1/cases"),
        ("POST", "/api/v1/cases"),
        ("GET", "/api/v1/cases/<int:case_id>"),
        ("POST", "/api/v1/cases/<int:case_id>/transitions"),
        ("POST", "/api/v1/cases/<int:case_id>/notes"),
        ("GET", "/api/v1/cases/<int:case_id>/events"),
        ("GET", "/api/v1/cases/<int:case_id>/export"),
        ("GET", "/api/v1/cases/<int:case_id>/access-log"),
        ("POST", "/api/v1/cases/<int:case_id>/child/corrections"),
        ("POST", "/api/v1/cases/<int:case_id>/disclosures"),
        ("GET", "/api/v1/tasks"),
        ("POST", "/api/v1/tasks/<int:task_id>/complete"),
        ("GET", "/api/v1/dashboard/overdue"),
        ("GET", "/api/v1/calendar"),
        ("GET", "/api/v1/calendar/due"),
        ("PUT", "/api/v1/calendar/<date>"),
        ("DELETE", "/api/v1/calendar/<date>"),
        ("GET", "/api/v1/forms"),
        ("GET", "/api/v1/cases/<int:case_id>/forms"),
        ("GET", "/api/v1/cases/<int:case_id>/forms/<code>/revisions"),
        ("PUT", "/api/v1/cases/<int:case_id>/forms/<code>"),
        ("GET", "/api/v1/cases/<int:case_id>/documents/<name>"),
        ("POST", "/api/v1/cases/<int:case_id>/attachments"),
        ("GET", "/api/v1/cases/<int:case_id>/attachments"),
        ("GET", "/api/v1/cases/<int:case_id>/attachments/<int:attachment_id>"),
        ("GET", "/api/v1/reports/periodic"),
        ("GET", "/api/v1/reports/obligations"),
        ("POST", "/api/v1/reports/obligations/<int:obligation_id>/submit"),
        ("GET", "/api/v1/reports/adhoc"),
    }


# -- authentication ---------------------------------------------------------------------------


def _authed_urls(app) -> list[tuple[str, str]]:
    out = []
    for method, rule in sorted(api_rules(app) - NO_AUTH):
        out.append(
            (
                method,
                re.sub(
                    r"<(?:\w+:)?(\w+)>",
                    lambda m: "2026-03-09" if m.group(1) in ("value", "date", "day") else "1",
                    rule,
                ),
            )
        )
    return out


def _assert_all_401(app, client, headers: dict) -> None:
    for method, url in _authed_urls(app):
        resp = client.open(url, method=method, headers=headers, json={})
        assert resp.status_code == 401, (method, url, resp.status_code)
        assert resp.get_json()["error"]["code"] == "unauthorized"


def test_no_token_is_401_everywhere(app, client, world):
    _assert_all_401(app, client, {})


@pytest.mark.parametrize(
    "header", ["Bearer not-a-token", "Bearer ", "Basic YWRtaW46eA==", "bearer", "Token x"]
)
def test_bad_token_is_401_everywhere(app, client, world, header):
    _assert_all_401(app, client, {"Authorization": header})


def test_expired_token_is_401_everywhere(app, api, client, world):
    token = api.token("supervisor_p@test.vn")
    assert api.get("/api/v1/me", "supervisor_p@test.vn").status_code == 200
    db.session.execute(update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.session.commit()
    _assert_all_401(app, client, {"Authorization": f"Bearer {token}"})


def test_token_of_a_deactivated_user_is_401(api, world):
    token = api.token("officer_a@test.vn")
    world.users["officer_a"].active = False
    db.session.commit()
    resp = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401


def test_wrong_password_and_unknown_user_are_401(client, world):
    for body in (
        {"email": "officer_a@test.vn", "password": "wrong-password-123"},
        {"email": "nobody@test.vn", "password": PASSWORD},
        {"email": 1, "password": None},
    ):
        resp = client.post("/api/v1/auth/token", json=body)
        assert resp.status_code == 401
        assert "token" not in resp.get_json()


def test_api_sign_in_shares_the_delay_of_the_sign_in_page(client, world):
    """Failed sign-ins slow down the address for the API too, even against the right password
    (services/throttle.py): the API is no side door for guessing."""
    for _ in range(3):
        wrong = client.post(
            "/api/v1/auth/token", json={"email": "officer_a@test.vn", "password": "not-it-at-all"}
        )
        assert wrong.status_code == 401
    held = client.post("/api/v1/auth/token", json={"email": "officer_a@test.vn", "password": PASSWORD})
    assert held.status_code == 429 and int(held.headers["Retry-After"]) >= 1
    assert "token" not in held.get_json()


def test_browser_session_cookie_is_never_accepted_by_the_api(app, client, world, open_case):
    case = open_case()
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    assert csrf, "the sign-in page carries a CSRF token"
    resp = client.post(
        "/login", data={"email": "officer_a@test.vn", "password": PASSWORD, "csrf_token": csrf.group(1)}
    )
    assert resp.status_code == 302, "signed in to the web pages"
    assert client.get_cookie("session") is not None
    _assert_all_401(app, client, {})
    resp = client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        json={"trigger": "dismiss", "version": case["version"], "data": {"reason": "x"}},
    )
    assert resp.status_code == 401


# -- jurisdiction details ------------------------------------------------------------------------


def test_agency_staff_stop_seeing_the_child_when_their_task_is_done(api, scene):
    url = f"/api/v1/cases/{scene.cases['a']['id']}"
    assert "child" in api.get(url, "police_a@test.vn").get_json()
    police = [t for t in scene.cases["a"]["tasks"] if t["agency"] == "A-police"]
    assert len(police) == 2  # stop the harm, preserve the evidence (Art. 31)
    for task in police:
        assert (
            api.post(
                f"/api/v1/tasks/{task['id']}/complete", "police_a@test.vn", json={"outcome": "Stopped"}
            ).status_code
            == 200
        )
    detail = api.get(url, "police_a@test.vn")
    assert detail.status_code == 200 and "child" not in detail.get_json()
    assert MARKER not in detail.get_data().lower()


def test_handover_gives_the_new_commune_the_case_and_keeps_it_from_others(api, scene, fire):
    case = api.get(f"/api/v1/cases/{scene.cases['a']['id']}", "officer_a@test.vn").get_json()
    case = fire(case, "handover", "officer_a@test.vn", {"residence_commune": "C"})
    asked = api.get(f"/api/v1/cases/{case['id']}", "officer_c@test.vn")  # C sees it to decide...
    assert asked.status_code == 200 and "child" not in asked.get_json()  # ... not the child yet
    assert asked.get_json()["allowed_triggers"] == ["accept_handover", "decline_handover"]
    fire(case, "accept_handover", "officer_c@test.vn")
    assert api.get(f"/api/v1/cases/{case['id']}", "officer_c@test.vn").status_code == 200
    assert api.get(f"/api/v1/cases/{case['id']}", "supervisor_d@test.vn").status_code == 200
    assert api.get(f"/api/v1/cases/{case['id']}", "officer_b@test.vn").status_code == 404


def test_supervisor_subtree_is_not_matched_by_wildcard_characters_in_codes(api, world):
    """A unit code with `_` or `%` must not make a LIKE pattern that reaches a sibling's cases."""
    for body in (
        {"code": "D_", "name": "District underscore", "level": "district", "parent": "P"},
        {"code": "DX", "name": "District X", "level": "district", "parent": "P"},
        {"code": "R", "name": "Xã R", "level": "commune", "parent": "DX"},
        {
            "code": "R-cc",
            "name": "UBND R",
            "kind": "commune_committee",
            "org_unit": "R",
            "email": "r@agency.test",
        },
        {
            "email": "sup_under@test.vn",
            "name": "Sup",
            "password": PASSWORD,
            "role": "supervisor",
            "org_unit": "D_",
        },
    ):
        url = (
            "/api/v1/users"
            if "email" in body and "password" in body
            else ("/api/v1/agencies" if "kind" in body else "/api/v1/org-units")
        )
        assert api.post(url, "admin@test.vn", json=body).status_code == 201, body
    case = api.post("/api/v1/cases", "hotline@test.vn", json=new_case_payload("R")).get_json()
    assert api.get(f"/api/v1/cases/{case['id']}", "sup_under@test.vn").status_code == 404
    assert api.get("/api/v1/cases", "sup_under@test.vn").get_json()["total"] == 0
    assert api.get("/api/v1/tasks", "sup_under@test.vn").get_json()["total"] == 0
    assert api.get("/api/v1/dashboard/overdue", "sup_under@test.vn").get_json()["by_org_unit"] == []
    assert (
        api.get("/api/v1/cases", "supervisor_p@test.vn", query_string={"org_unit": "D_"}).get_json()["total"]
        == 0
    )
