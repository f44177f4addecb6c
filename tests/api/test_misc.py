"""Health, the OpenAPI document against the real routes, the CLI, token expiry and the overdue
dashboard reacting to a deadline passing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, inspect, select

from caseflow import create_app
from caseflow.extensions import db
from caseflow.models import Agency, CalendarDay, Case, OrgUnit, Task, User
from caseflow.models.orgs import AGENCY_KINDS
from caseflow.models.people import ROLES
from caseflow.workflow import current_engine
from tests.conftest import PASSWORD, TEST_CONFIG

# -- health --------------------------------------------------------------------------------------


def test_healthz_reports_database_and_inline_queue(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    body = resp.get_json()
    assert {k: body[k] for k in ("status", "database", "queue")} == {
        "status": "ok",
        "database": "ok",
        "queue": "inline",
    }


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/x.db"})
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["database"] == "down" and resp.get_json()["status"] != "ok"


def test_healthz_is_503_when_the_queue_is_unreachable(database_url):
    app = create_app(
        {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": "redis://127.0.0.1:1/0"}
    )
    with app.app_context():
        resp = app.test_client().get("/healthz")
        db.engine.dispose()
    assert resp.status_code == 503
    assert resp.get_json()["queue"] == "down" and resp.get_json()["database"] == "ok"


# -- OpenAPI ---------------------------------------------------------------------------------------


def _routes(app) -> dict[str, set[str]]:
    """/api/v1 rules of the url_map as OpenAPI paths and lower-case methods."""
    out: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len("/api/v1") :])
            out.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    return out


def test_openapi_lists_exactly_the_api_routes_and_their_methods(app, client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = resp.get_json()
    assert doc["openapi"].startswith("3.")
    assert doc["servers"] == [{"url": "/api/v1"}]
    documented = {
        path: {m for m in ops if m in ("get", "post", "put", "delete", "patch")}
        for path, ops in doc["paths"].items()
    }
    assert documented == _routes(app)


def test_openapi_path_parameters_match_the_placeholders(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    for path, ops in doc["paths"].items():
        placeholders = set(re.findall(r"{(\w+)}", path))
        for method, op in ops.items():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == placeholders, (method, path)
            assert op["responses"], (method, path)


def test_openapi_marks_only_token_and_itself_as_public(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    public = {
        (path, m) for path, ops in doc["paths"].items() for m, op in ops.items() if op.get("security") == []
    }
    assert public == {("/auth/token", "post"), ("/openapi.json", "get")}


# -- CLI ---------------------------------------------------------------------------------------------


def test_init_db_builds_a_fresh_sqlite_database_with_the_calendar(tmp_path):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/fresh.db"})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["caseflow", "init-db"])
    assert result.exit_code == 0, result.output
    assert re.search(r"Database ready; [1-9]\d* calendar days added", result.output)
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert {"cases", "tasks", "case_events", "calendar_days", "alembic_version"} <= tables
        tet = db.session.get(CalendarDay, datetime(2026, 2, 17).date())
        assert tet is not None and tet.kind == "holiday"
        db.session.remove()
        db.engine.dispose()
    again = runner.invoke(args=["caseflow", "init-db"])
    assert again.exit_code == 0 and "0 calendar days added" in again.output


def test_create_user_adds_a_user_who_can_sign_in(runner, api, world):
    result = runner.invoke(
        args=[
            "caseflow",
            "create-user",
            "--email",
            "cli.officer@test.vn",
            "--password",
            PASSWORD,
            "--role",
            "officer",
            "--name",
            "CLI",
            "--org-unit",
            "B",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "cli.officer@test.vn" in result.output
    assert api.get("/api/v1/me", "cli.officer@test.vn").get_json()["org_unit"] == "B"


def test_create_user_refuses_a_bad_role_or_a_short_password(runner, world):
    users_before = db.session.scalar(select(func.count()).select_from(User))
    bad_role = runner.invoke(
        args=[
            "caseflow",
            "create-user",
            "--email",
            "x@test.vn",
            "--password",
            PASSWORD,
            "--role",
            "wizard",
            "--name",
            "X",
            "--org-unit",
            "A",
        ]
    )
    assert bad_role.exit_code != 0
    assert "role" in bad_role.output and "Traceback" not in bad_role.output
    short = runner.invoke(
        args=[
            "caseflow",
            "create-user",
            "--email",
            "y@test.vn",
            "--password",
            "elevenchars",
            "--role",
            "admin",
            "--name",
            "Y",
        ]
    )
    assert short.exit_code != 0
    assert "password" in short.output and "12" in short.output
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == users_before


@pytest.mark.parametrize("backend", ["sqlite"])  # the embedded default the demo is for; ~30 cases is slow
def test_seed_demo_builds_lang_son_with_cases_in_every_state(runner, app):
    result = runner.invoke(args=["caseflow", "seed-demo"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    province = db.session.scalar(select(OrgUnit).where(OrgUnit.level == "province"))
    assert "Lạng Sơn" in province.name
    [district] = db.session.scalars(select(OrgUnit).where(OrgUnit.level == "district")).all()
    assert "Chi Lăng" in district.name and district.parent_id == province.id
    assert district.valid_to is not None  # historic: abolished by the 2025 reform
    communes = db.session.scalars(select(OrgUnit).where(OrgUnit.level == "commune")).all()
    full = [
        c
        for c in communes
        if {a.kind for a in db.session.scalars(select(Agency).where(Agency.org_unit_id == c.id))}
        == set(AGENCY_KINDS)
    ]
    assert len(full) >= 3
    roles = set(db.session.scalars(select(User.role)))
    assert roles == set(ROLES)
    cases = db.session.scalars(select(Case)).all()
    assert 25 <= len(cases) <= 40
    assert {c.state for c in cases} == set(current_engine().definition.states)
    assert all(c.reference.startswith("LS-") for c in cases)
    now = datetime.now(UTC)
    overdue = db.session.scalars(select(Task).where(Task.status == "open", Task.due_at < now)).all()
    assert len({t.case_id for t in overdue}) >= 2
    # The demo passwords are printed so that someone can sign in.
    password = re.search(r"password[^:]*:\s*([^\s():]+)", result.output, re.IGNORECASE)
    assert password, result.output
    admin = db.session.scalar(select(User).where(User.role == "admin"))
    assert admin.email in result.output and admin.check_password(password.group(1))
    again = runner.invoke(args=["caseflow", "seed-demo"])
    assert again.exit_code == 0
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Case)) == len(cases)


# -- tokens ---------------------------------------------------------------------------------------


def test_tokens_expire_after_the_configured_hours(app, client, world):
    before = datetime.now(UTC)
    resp = client.post("/api/v1/auth/token", json={"email": "officer_a@test.vn", "password": PASSWORD})
    body = resp.get_json()
    expires = datetime.fromisoformat(body["expires_at"])
    hours = timedelta(hours=app.config["API_TOKEN_HOURS"])
    assert before + hours - timedelta(seconds=5) <= expires <= datetime.now(UTC) + hours
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    from caseflow.models import ApiToken

    row = db.session.scalar(select(ApiToken))
    row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    # Another sign-in gives a fresh token; the old one stays dead.
    fresh = client.post("/api/v1/auth/token", json={"email": "officer_a@test.vn", "password": PASSWORD})
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh.get_json()['token']}"}).status_code
        == 200
    )
    assert client.get("/api/v1/me", headers=headers).status_code == 401


# -- the overdue dashboard -------------------------------------------------------------------------


def test_dashboard_and_overdue_filters_change_when_a_task_becomes_overdue(api, open_case, fire, sql):
    case = open_case()
    [verify] = case["tasks"]

    def snapshot(who: str = "supervisor_p@test.vn") -> dict:
        dash = api.get("/api/v1/dashboard/overdue", who).get_json()
        return {
            "unit": {r["code"]: (r["open_cases"], r["overdue_tasks"]) for r in dash["by_org_unit"]},
            "agency": {r["code"]: r["overdue_tasks"] for r in dash["by_agency"]},
            "tasks": api.get("/api/v1/tasks?overdue=true", who).get_json()["total"],
            "cases": api.get("/api/v1/cases?overdue=true", who).get_json()["total"],
        }

    assert snapshot() == {"unit": {"A": (1, 0)}, "agency": {}, "tasks": 0, "cases": 0}
    past = (datetime.now(UTC) - timedelta(minutes=1)).replace(tzinfo=None)  # stored as naive UTC
    sql("UPDATE tasks SET due_at = :due WHERE id = :id", due=past, id=verify["id"])
    db.session.commit()
    overdue = {"unit": {"A": (1, 1)}, "agency": {"A-commune_committee": 1}, "tasks": 1, "cases": 1}
    assert snapshot() == overdue
    assert snapshot("officer_a@test.vn") == overdue
    assert snapshot("supervisor_d@test.vn") == {"unit": {}, "agency": {}, "tasks": 0, "cases": 0}
    listed = api.get("/api/v1/cases", "officer_a@test.vn").get_json()["items"]
    assert [c["overdue_tasks"] for c in listed] == [1]
    detail = api.get(f"/api/v1/cases/{case['id']}", "officer_a@test.vn").get_json()
    assert [t["overdue"] for t in detail["tasks"]] == [True]
    # Done late (by its step: verify) is no longer overdue work.
    fire(
        detail,
        "verify",
        "officer_a@test.vn",
        {"risk_level": "low", "serious_harm": False, "caregiver_is_abuser": False, "findings": "Late"},
    )
    assert snapshot() == {"unit": {"A": (1, 0)}, "agency": {}, "tasks": 0, "cases": 0}


def test_dashboard_counts_only_open_cases(api, open_case, fire):
    fire(open_case(), "dismiss", "officer_a@test.vn", {"reason": "Unfounded"})
    open_case("B")
    dash = api.get("/api/v1/dashboard/overdue", "supervisor_p@test.vn").get_json()
    assert {r["code"]: r["open_cases"] for r in dash["by_org_unit"]} == {"B": 1}


# -- case list filters --------------------------------------------------------------------------


def test_case_list_filters_by_state_risk_harm_reference_and_org_unit(api, open_case, fire):
    a = fire(
        open_case("A", harm_types=["neglect", "violence"]),
        "verify",
        "officer_a@test.vn",
        {"risk_level": "high", "serious_harm": False, "caregiver_is_abuser": False, "findings": "x"},
    )
    b = open_case("B", harm_types=["trafficking"])
    c = open_case("C", harm_types=["violence"])

    def ids(**query) -> set[int]:
        resp = api.get("/api/v1/cases", "supervisor_p@test.vn", query_string=query)
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        assert body["total"] == len(body["items"])
        return {item["id"] for item in body["items"]}

    assert ids() == {a["id"], b["id"], c["id"]}
    assert ids(state="verified") == {a["id"]}
    assert ids(state="received") == {b["id"], c["id"]}
    assert ids(risk_level="high") == {a["id"]}
    assert ids(harm_type="violence") == {a["id"], c["id"]}
    assert ids(harm_type="trafficking") == {b["id"]}
    assert ids(harm_type="exploitation") == set()
    assert ids(org_unit="D") == {c["id"]}  # the historic district's subtree
    assert ids(org_unit="P") == {a["id"], b["id"], c["id"]}
    assert ids(reference=b["reference"].lower()) == {b["id"]}
    assert ids(state="received", org_unit="B") == {b["id"]}
    # A filter never widens the caller's reach.
    resp = api.get("/api/v1/cases", "officer_b@test.vn", query_string={"org_unit": "P"}).get_json()
    assert {item["id"] for item in resp["items"]} == {b["id"]}


def test_times_in_responses_carry_an_offset(api, open_case):
    case = open_case()
    detail = api.get(f"/api/v1/cases/{case['id']}", "officer_a@test.vn").get_json()
    events = api.get(f"/api/v1/cases/{case['id']}/events", "officer_a@test.vn").get_json()["items"]
    moments = [
        detail["received_at"],
        detail["state_entered_at"],
        *(t["due_at"] for t in detail["tasks"]),
        *(e["at"] for e in events),
    ]
    for moment in moments:
        assert datetime.fromisoformat(moment).utcoffset() is not None, moment


def test_api_answers_are_never_stored_by_a_cache(api, client, open_case):
    """A case detail names the child: no browser, proxy or client cache may keep any API answer."""
    case = open_case()
    answers = [
        api.get(f"/api/v1/cases/{case['id']}", "officer_a@test.vn"),
        api.get(f"/api/v1/cases/{case['id']}", "officer_b@test.vn"),  # 404 outside the commune
        client.get("/api/v1/cases"),  # 401 without a token
        client.get("/api/v1/no-such-endpoint"),
    ]
    assert [r.status_code for r in answers] == [200, 404, 401, 404]
    for resp in answers:
        assert resp.headers["Cache-Control"] == "no-store"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
    # The style sheet names nobody: browsers may keep it.
    assert "no-store" not in client.get("/static/caseflow.css").headers.get("Cache-Control", "")


def _not_null(schema: dict) -> dict:
    """An optional field's schema without its `null` alternative."""
    kinds = [k for k in schema.get("anyOf", [schema]) if k != {"type": "null"}]
    assert len(kinds) == 1, schema
    return kinds[0]


def test_openapi_enumerations_and_limits_are_the_codes(client, app):
    from caseflow.models.calendar import DAY_KINDS
    from caseflow.models.cases import CHANNELS, HARM_TYPES, SEXES
    from caseflow.models.tasks import TASK_STATUSES
    from caseflow.services.intake import CHILD_AGE_LIMIT

    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    new_case = schemas["NewCase"]["properties"]
    assert new_case["channel"]["enum"] == list(CHANNELS)
    assert new_case["harm_types"]["items"]["enum"] == list(HARM_TYPES)
    assert new_case["summary"]["maxLength"] == app.config["MAX_SUMMARY_CHARS"]
    child = schemas[new_case["child"]["$ref"].rsplit("/", 1)[1]]["properties"]
    assert _not_null(child["sex"])["enum"] == list(SEXES)
    assert _not_null(child["estimated_age"])["maximum"] == CHILD_AGE_LIMIT - 1
    assert schemas["Task"]["properties"]["status"]["enum"] == list(TASK_STATUSES)
    assert schemas["CalendarDay"]["properties"]["kind"]["enum"] == list(DAY_KINDS)


def test_without_secret_key_each_installation_gets_its_own_kept_random_key(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEFLOW_INSTANCE_PATH", str(tmp_path / "one"))
    config = {**TEST_CONFIG, "SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    first, again = create_app(config), create_app(config)
    monkeypatch.setenv("CASEFLOW_INSTANCE_PATH", str(tmp_path / "two"))
    other = create_app(config)
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == again.config["SECRET_KEY"] != other.config["SECRET_KEY"]
    assert (tmp_path / "one" / "secret_key").stat().st_mode & 0o077 == 0
