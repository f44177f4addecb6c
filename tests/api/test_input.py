"""Bad input is a 4xx that names the field and changes nothing; reference data rules.

Each test walks many bad inputs on one world (a fresh world per input would be slow) and
counts every table's rows before and after each call. TESTING propagates exceptions, so a
500 would fail the test loudly rather than pass as a status code.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from caseflow.extensions import db
from caseflow.models import Informant
from tests.conftest import PASSWORD, new_case_payload

VN = ZoneInfo("Asia/Ho_Chi_Minh")
VERIFY_MILD = {"risk_level": "low", "serious_harm": False, "caregiver_is_abuser": False, "findings": "ok"}
UNCOUNTED = {"api_tokens"}  # logging in is not a change this file is about


def _rows() -> dict[str, int]:
    """Every table's row count, in one round trip."""
    db.session.rollback()
    tables = [t for t in db.metadata.sorted_tables if t.name not in UNCOUNTED]
    counts = db.session.execute(
        select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
    ).one()
    return dict(zip((t.name for t in tables), counts, strict=True))


def _refused(api, method: str, url: str, as_: str, status: int, field: str | None = None, **kw) -> dict:
    """The call gives `status`, names `field` in `error.fields`, and writes nothing."""
    api.token(as_)
    before = _rows()
    resp = api.call(method, url, as_, **kw)
    body = resp.get_json()
    assert resp.status_code == status, (method, url, kw, resp.status_code, body)
    assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"], body
    if field is not None:
        assert field in body["error"].get("fields", {}), (field, kw, body)
    assert _rows() == before, (method, url, kw)
    return body


def _years_ago(years: int, days: int = 0) -> str:
    today = datetime.now(VN).date()
    return (today.replace(year=today.year - years) + timedelta(days=days)).isoformat()


def _child(**changes) -> dict:
    child = {"full_name": "Bé Thử", "date_of_birth": "2016-05-01", "sex": "female", "address": "Thôn 1"}
    child.update(changes)
    return {k: v for k, v in child.items() if v is not ...}


BAD_CASES = [  # (changes to the new-case payload, the field the error must name)
    ({"incident_commune": 5}, "incident_commune"),
    ({"incident_commune": "ZZ"}, "incident_commune"),
    ({"incident_commune": "D"}, "incident_commune"),  # a district, not a commune
    ({"incident_commune": None}, "incident_commune"),
    ({"residence_commune": "ZZ"}, "residence_commune"),
    ({"residence_commune": ["A"]}, "residence_commune"),
    ({"received_at": "yesterday"}, "received_at"),
    ({"received_at": "2026-01-01T10:00:00"}, "received_at"),  # no offset
    ({"received_at": 1767225600}, "received_at"),
    ({"received_at": "0001-01-01T00:00:00+07:00"}, "received_at"),  # overflowed converting to UTC
    ({"received_at": "1850-01-01T00:00:00+07:00"}, "received_at"),
    ({"received_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}, "received_at"),
    ({"received_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}, "received_at"),
    ({"channel": "fax"}, "channel"),
    ({"channel": None}, "channel"),
    ({"harm_types": "violence"}, "harm_types"),
    ({"harm_types": []}, "harm_types"),
    ({"harm_types": ["violence", "theft"]}, "harm_types"),
    ({"harm_types": [{"kind": "violence"}]}, "harm_types"),
    ({"summary": "x" * 100_000}, "summary"),
    ({"summary": 5}, "summary"),
    ({"summary": "   "}, "summary"),
    ({"summary": None}, "summary"),
    ({"child": "Bé Thử"}, "child"),
    ({"child": None}, "child"),
    ({"child": _child(full_name=...)}, "child.full_name"),
    ({"child": _child(full_name="x" * 201)}, "child.full_name"),
    ({"child": _child(date_of_birth=_years_ago(16))}, "child.date_of_birth"),  # 16 today: not a child
    ({"child": _child(date_of_birth=_years_ago(20))}, "child.date_of_birth"),
    ({"child": _child(date_of_birth=_years_ago(0, days=1))}, "child.date_of_birth"),  # born tomorrow
    ({"child": _child(date_of_birth="01/05/2016")}, "child.date_of_birth"),
    ({"child": _child(date_of_birth=20160501, estimated_age=9)}, "child.date_of_birth"),
    ({"child": _child(date_of_birth=..., estimated_age=16)}, "child.estimated_age"),
    ({"child": _child(date_of_birth=..., estimated_age="ten")}, "child.estimated_age"),
    ({"child": _child(date_of_birth=..., estimated_age=True)}, "child.estimated_age"),
    ({"child": _child(date_of_birth=..., estimated_age=-1)}, "child.estimated_age"),
    ({"child": _child(date_of_birth=...)}, "child.date_of_birth"),  # neither birth date nor age
    ({"child": _child(sex="x")}, "child.sex"),
    ({"informant": "anonymous"}, "informant"),
    ({"informant": {"name": "N"}}, "informant.consent"),
    ({"informant": {"name": "N", "consent": "yes"}}, "informant.consent"),
]


def test_bad_case_reports_are_422_naming_the_field_and_write_nothing(api, world):
    for changes, field in BAD_CASES:
        _refused(
            api,
            "POST",
            "/api/v1/cases",
            "officer_a@test.vn",
            422,
            field,
            json=new_case_payload("A", **changes),
        )


def test_a_child_one_day_short_of_sixteen_is_accepted(api, world):
    payload = new_case_payload("A", child=_child(date_of_birth=_years_ago(16, days=1)))
    assert api.post("/api/v1/cases", "officer_a@test.vn", json=payload).status_code == 201
    payload = new_case_payload("A", child=_child(date_of_birth=..., estimated_age=15))
    assert api.post("/api/v1/cases", "officer_a@test.vn", json=payload).status_code == 201


def test_malformed_json_is_400_everywhere_and_writes_nothing(api, open_case):
    case = open_case()
    task = case["tasks"][0]
    for method, url, who in (
        ("POST", "/api/v1/cases", "officer_a"),
        ("POST", f"/api/v1/cases/{case['id']}/transitions", "officer_a"),
        ("POST", f"/api/v1/cases/{case['id']}/notes", "officer_a"),
        ("POST", f"/api/v1/tasks/{task['id']}/complete", "officer_a"),
        ("POST", "/api/v1/org-units", "admin"),
        ("POST", "/api/v1/agencies", "admin"),
        ("POST", "/api/v1/users", "admin"),
        ("PUT", "/api/v1/calendar/2026-03-09", "admin"),
    ):
        for body in ('{"incident_commune": "A",', "not json", ""):
            err = _refused(
                api, method, url, f"{who}@test.vn", 400, data=body, content_type="application/json"
            )
            assert err["error"]["code"] == "bad_request"
    resp = api.client.post("/api/v1/auth/token", data="{", content_type="application/json")
    assert resp.status_code == 400


def test_body_that_is_not_an_object_is_422(api, open_case):
    case = open_case()
    for body in ([1, 2], "text", 5, True):
        _refused(api, "POST", "/api/v1/cases", "officer_a@test.vn", 422, "body", json=body)
        _refused(
            api,
            "POST",
            f"/api/v1/cases/{case['id']}/transitions",
            "officer_a@test.vn",
            422,
            "body",
            json=body,
        )
        _refused(api, "POST", "/api/v1/org-units", "admin@test.vn", 422, "body", json=body)
        _refused(
            api, "POST", f"/api/v1/cases/{case['id']}/notes", "officer_a@test.vn", 422, "body", json=body
        )


def test_json_nested_deeper_than_the_parser_goes_is_400(api, open_case):
    case = open_case()
    deep = "[" * 100_000 + "]" * 100_000
    for url in (
        "/api/v1/cases",
        f"/api/v1/cases/{case['id']}/notes",
        f"/api/v1/cases/{case['id']}/transitions",
    ):
        _refused(api, "POST", url, "officer_a@test.vn", 400, data=deep, content_type="application/json")
    assert (
        api.client.post("/api/v1/auth/token", data=deep, content_type="application/json").status_code == 400
    )


def test_nul_characters_are_refused_naming_the_field(api, open_case, fire):
    """PostgreSQL text cannot hold U+0000: it must be a 422, not a database error."""
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    for changes, field in (
        ({"summary": "a\x00b"}, "summary"),
        ({"incident_commune": "A\x00"}, "incident_commune"),
        ({"child": _child(full_name="Bé\x00")}, "child.full_name"),
        ({"informant": {"name": "\x00", "consent": True}}, "informant.name"),
    ):
        _refused(
            api,
            "POST",
            "/api/v1/cases",
            "officer_a@test.vn",
            422,
            field,
            json=new_case_payload("A", **changes),
        )
    _refused(
        api,
        "POST",
        f"/api/v1/cases/{case['id']}/transitions",
        "officer_a@test.vn",
        422,
        "data.measures[0].agency",
        json={"trigger": "submit_plan", "version": case["version"], "data": _plan(agency="A-\x00")},
    )
    _refused(
        api,
        "POST",
        f"/api/v1/cases/{case['id']}/notes",
        "officer_a@test.vn",
        422,
        "text",
        json={"text": "\x00"},
    )
    _refused(
        api,
        "POST",
        "/api/v1/org-units",
        "admin@test.vn",
        422,
        "parent",
        json={"code": "N1", "name": "N", "level": "commune", "parent": "P\x00"},
    )
    _refused(
        api,
        "PUT",
        "/api/v1/calendar/2026-03-09",
        "admin@test.vn",
        422,
        "name",
        json={"kind": "holiday", "name": "\x00"},
    )
    for query in ("org_unit=%00", "reference=A%00", "state=%00"):
        _refused(api, "GET", f"/api/v1/cases?{query}", "officer_a@test.vn", 422, query.split("=")[0])
    resp = api.client.post("/api/v1/auth/token", json={"email": "officer_a@test.vn\x00", "password": "x"})
    assert resp.status_code in (401, 422)


def test_ids_beyond_the_integer_range_are_404_not_500(api, open_case):
    case = open_case()
    for huge in (2**31, 2**63, 10**20):
        _refused(api, "GET", f"/api/v1/cases/{huge}", "officer_a@test.vn", 404)
        _refused(api, "GET", f"/api/v1/cases/{huge}/events", "officer_a@test.vn", 404)
        _refused(api, "POST", f"/api/v1/cases/{huge}/notes", "officer_a@test.vn", 404, json={"text": "x"})
        _refused(
            api,
            "POST",
            f"/api/v1/cases/{huge}/transitions",
            "officer_a@test.vn",
            404,
            json={"trigger": "verify", "version": 1, "data": VERIFY_MILD},
        )
        _refused(
            api, "POST", f"/api/v1/tasks/{huge}/complete", "officer_a@test.vn", 404, json={"outcome": "x"}
        )
    _refused(api, "GET", "/api/v1/cases/0", "officer_a@test.vn", 404)
    # The session is still usable afterwards (no aborted transaction left behind).
    assert api.get(f"/api/v1/cases/{case['id']}", "officer_a@test.vn").status_code == 200


def test_a_body_over_the_size_limit_is_refused_without_a_500(api, world):
    payload = new_case_payload("A", summary="x" * (2 * 1024 * 1024))
    resp = api.post("/api/v1/cases", "officer_a@test.vn", json=payload)
    assert resp.status_code in (400, 413)


def _plan(**measure) -> dict:
    item = {
        "agency": "A-health",
        "description": "Check-up",
        "due_at": (datetime.now(UTC) + timedelta(days=10)).isoformat(),
    }
    item.update(measure)
    return {"plan": "Support plan", "measures": [{k: v for k, v in item.items() if v is not ...}]}


def test_bad_transitions_are_4xx_naming_the_field_and_write_nothing(api, open_case, fire):
    received = open_case()
    verified = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()

    def bad(case, body, field, status=422, who="officer_a@test.vn"):
        _refused(api, "POST", f"/api/v1/cases/{case['id']}/transitions", who, status, field, json=body)

    v_r, v_v = received["version"], verified["version"]
    bad(received, {"trigger": "explode", "version": v_r}, "trigger")
    bad(received, {"trigger": 5, "version": v_r}, "trigger")
    bad(received, {"trigger": None, "version": v_r}, "trigger")
    bad(received, {"trigger": "verify", "data": VERIFY_MILD}, "version")
    bad(received, {"trigger": "verify", "version": str(v_r), "data": VERIFY_MILD}, "version")
    bad(received, {"trigger": "verify", "version": True, "data": VERIFY_MILD}, "version")
    bad(received, {"trigger": "verify", "version": v_r, "data": [1]}, "data")
    bad(received, {"trigger": "verify", "version": v_r, "data": {}}, "data.risk_level")
    bad(
        received,
        {"trigger": "verify", "version": v_r, "data": {**VERIFY_MILD, "risk_level": "extreme"}},
        "data.risk_level",
    )
    bad(
        received,
        {"trigger": "verify", "version": v_r, "data": {**VERIFY_MILD, "serious_harm": "yes"}},
        "data.serious_harm",
    )
    bad(
        received,
        {"trigger": "verify", "version": v_r, "data": {**VERIFY_MILD, "findings": ["a"]}},
        "data.findings",
    )
    bad(received, {"trigger": "dismiss", "version": v_r, "data": {"reason": ""}}, "data.reason")
    bad(
        received,
        {"trigger": "handover", "version": v_r, "data": {"residence_commune": "ZZ"}},
        "data.residence_commune",
    )
    bad(
        received,
        {"trigger": "handover", "version": v_r, "data": {"residence_commune": "D"}},
        "data.residence_commune",
    )
    bad(
        received,
        {"trigger": "handover", "version": v_r, "data": {"residence_commune": "A"}},
        "data.residence_commune",
    )
    bad(received, {"trigger": "verify", "version": v_r + 7, "data": VERIFY_MILD}, None, 409)
    bad(received, {"trigger": "submit_plan", "version": v_r, "data": _plan()}, None, 409)

    submit = {"trigger": "submit_plan", "version": v_v}
    bad(verified, {**submit, "data": {"plan": "p"}}, "data.measures")
    bad(verified, {**submit, "data": {"plan": "p", "measures": []}}, "data.measures")
    bad(verified, {**submit, "data": {"plan": "p", "measures": "see plan"}}, "data.measures")
    bad(verified, {**submit, "data": {"plan": "p", "measures": [5]}}, "data.measures[0]")
    bad(verified, {**submit, "data": _plan(agency="ZZ-police")}, "data.measures[0].agency")
    bad(verified, {**submit, "data": _plan(agency=7)}, "data.measures[0].agency")
    bad(verified, {**submit, "data": _plan(due_at=past)}, "data.measures[0].due_at")
    bad(verified, {**submit, "data": _plan(due_at="2030-01-01T10:00:00")}, "data.measures[0].due_at")
    bad(verified, {**submit, "data": _plan(due_at="next week")}, "data.measures[0].due_at")
    bad(verified, {**submit, "data": _plan(description=...)}, "data.measures[0].description")
    too_many = _plan()["measures"] * 51
    bad(verified, {**submit, "data": {"plan": "p", "measures": too_many}}, "data.measures")
    bad(verified, {**submit, "data": {**_plan(), "plan": None}}, "data.plan")


BAD_QUERIES = [
    ("/api/v1/cases?per_page=201", "per_page"),
    ("/api/v1/cases?per_page=0", "per_page"),
    ("/api/v1/cases?per_page=abc", "per_page"),
    ("/api/v1/cases?page=0", "page"),
    ("/api/v1/cases?page=-1", "page"),
    ("/api/v1/cases?page=1.5", "page"),
    ("/api/v1/cases?overdue=maybe", "overdue"),
    ("/api/v1/cases?state=lost", "state"),
    ("/api/v1/cases?org_unit=ZZ", "org_unit"),
    ("/api/v1/cases?risk_level=extreme", "risk_level"),
    ("/api/v1/cases?harm_type=theft", "harm_type"),
    ("/api/v1/tasks?per_page=1000", "per_page"),
    ("/api/v1/tasks?status=late", "status"),
    ("/api/v1/tasks?overdue=2", "overdue"),
    ("/api/v1/calendar?year=abc", "year"),
    ("/api/v1/calendar", "year"),
    ("/api/v1/calendar/due?working_days=1", "start"),
    ("/api/v1/calendar/due?start=2026-03-06T09:00:00&working_days=1", "start"),
    ("/api/v1/calendar/due?start=2026-03-06T09:00:00Z&working_days=-1", "working_days"),
    ("/api/v1/calendar/due?start=9999-12-30T00:00:00Z&working_days=5", "start"),  # past datetime's range
    ("/api/v1/calendar/due?start=9999-12-31T23:00:00-05:00&hours=1", "start"),
    ("/api/v1/calendar/due?start=2026-03-06T09:00:00Z&hours=abc", "hours"),
    ("/api/v1/calendar/due?start=2026-03-06T09:00:00Z&hours=%C2%B2", "hours"),  # "²" passes isdigit()
    ("/api/v1/calendar/due?start=2026-03-06T09:00:00Z&hours=99999999", "hours"),
    ("/api/v1/calendar/due?start=2026-03-06T09:00:00Z", "working_days"),
    ("/api/v1/calendar/due?start=2026-03-06T09:00:00Z&hours=1&working_days=1", "working_days"),
]


def test_bad_query_parameters_are_422_naming_the_parameter(api, world):
    for url, field in BAD_QUERIES:
        _refused(api, "GET", url, "supervisor_p@test.vn", 422, field)


def test_a_page_past_the_end_is_empty_not_an_error(api, open_case):
    open_case()
    body = api.get("/api/v1/cases?page=5&per_page=200", "officer_a@test.vn").get_json()
    assert body == {"items": [], "total": 1, "total_exact": True, "page": 5, "per_page": 200}


def test_bad_calendar_edits_are_422_and_write_nothing(api, world):
    _refused(
        api, "PUT", "/api/v1/calendar/2026-13-45", "admin@test.vn", 422, "date", json={"kind": "holiday"}
    )
    _refused(api, "PUT", "/api/v1/calendar/tomorrow", "admin@test.vn", 422, "date", json={"kind": "holiday"})
    _refused(api, "PUT", "/api/v1/calendar/2026-03-09", "admin@test.vn", 422, "kind", json={"kind": "party"})
    _refused(api, "PUT", "/api/v1/calendar/2026-03-09", "admin@test.vn", 422, "kind", json={})
    _refused(
        api,
        "PUT",
        "/api/v1/calendar/2026-03-09",
        "admin@test.vn",
        422,
        "name",
        json={"kind": "holiday", "name": 5},
    )
    _refused(api, "DELETE", "/api/v1/calendar/2026-02-30", "admin@test.vn", 422, "date")
    _refused(api, "DELETE", "/api/v1/calendar/2026-03-09", "admin@test.vn", 404)


def test_bad_notes_and_task_completions_are_422_naming_the_field(api, open_case):
    case = open_case()
    notes = f"/api/v1/cases/{case['id']}/notes"
    for body in ({}, {"text": ""}, {"text": "   "}, {"text": 5}, {"text": "x" * 10_001}):
        _refused(api, "POST", notes, "officer_a@test.vn", 422, "text", json=body)
    complete = f"/api/v1/tasks/{case['tasks'][0]['id']}/complete"
    for body in ({}, {"outcome": ""}, {"outcome": 5}, {"outcome": "ok", "note": ["x"]}):
        field = "note" if "note" in body else "outcome"
        _refused(api, "POST", complete, "officer_a@test.vn", 422, field, json=body)
    _refused(api, "POST", "/api/v1/tasks/999999/complete", "officer_a@test.vn", 404, json={"outcome": "ok"})
    _refused(api, "GET", "/api/v1/cases/999999", "officer_a@test.vn", 404)


# -- reference data ------------------------------------------------------------------------------


def test_org_units_follow_the_parent_rules(api, world):
    post = "/api/v1/org-units"
    ok = [
        {"code": "Q", "name": "Tỉnh Q", "level": "province", "parent": None},
        {"code": "QD", "name": "Huyện QD", "level": "district", "parent": "Q"},
        {
            "code": "QC1",
            "name": "Xã QC1",
            "level": "commune",
            "parent": "QD",
            "valid_from": "2020-01-01",
            "valid_to": "2025-06-30",
        },
        {"code": "QC2", "name": "Xã QC2", "level": "commune", "parent": "Q"},
    ]
    for body in ok:
        resp = api.post(post, "admin@test.vn", json=body)
        assert resp.status_code == 201, resp.get_json()
        assert resp.get_json()["code"] == body["code"] and resp.get_json()["parent"] == body["parent"]
    for body, field in (
        ({"code": "X1", "name": "X", "level": "province", "parent": "Q"}, "parent"),
        ({"code": "X2", "name": "X", "level": "district", "parent": None}, "parent"),
        ({"code": "X3", "name": "X", "level": "district", "parent": "QD"}, "parent"),
        ({"code": "X4", "name": "X", "level": "commune", "parent": "QC2"}, "parent"),
        ({"code": "X5", "name": "X", "level": "commune", "parent": "NOPE"}, "parent"),
        ({"code": "X6", "name": "X", "level": "commune", "parent": 5}, "parent"),
        ({"code": "X7", "name": "X", "level": "hamlet", "parent": "Q"}, "level"),
        ({"code": "QD/X", "name": "X", "level": "commune", "parent": "Q"}, "code"),  # would sit in QD's path
        ({"code": "X 1", "name": "X", "level": "commune", "parent": "Q"}, "code"),
        ({"code": "Q", "name": "X", "level": "province", "parent": None}, "code"),
        ({"code": "X8", "level": "province", "parent": None}, "name"),
        ({"name": "X", "level": "province", "parent": None}, "code"),
        (
            {
                "code": "X9",
                "name": "X",
                "level": "commune",
                "parent": "Q",
                "valid_from": "2025-01-01",
                "valid_to": "2024-01-01",
            },
            "valid_to",
        ),
        ({"code": "X10", "name": "X", "level": "commune", "parent": "Q", "valid_from": "soon"}, "valid_from"),
    ):
        _refused(api, "POST", post, "admin@test.vn", 422, field, json=body)
    listed = api.get(post, "officer_a@test.vn").get_json()
    codes = [u["code"] for u in listed["items"]]
    assert {"P", "D", "A", "B", "C", "Q", "QD", "QC1", "QC2"} <= set(codes)
    assert listed["total"] == len(listed["items"])


def test_agencies_need_a_known_kind_unit_and_an_email(api, world):
    body = {
        "code": "A-shelter",
        "name": "Nhà tạm lánh",
        "kind": "social_services",
        "org_unit": "A",
        "email": "shelter.a@agency.test",
    }
    resp = api.post("/api/v1/agencies", "admin@test.vn", json=body)
    assert resp.status_code == 201
    assert resp.get_json() == {
        "code": "A-shelter",
        "name": "Nhà tạm lánh",
        "kind": "social_services",
        "org_unit": "A",
        "email": "shelter.a@agency.test",
    }
    for changes, field in (
        ({"kind": "army"}, "kind"),
        ({"org_unit": "ZZ"}, "org_unit"),
        ({"org_unit": None}, "org_unit"),
        ({"email": "not-an-email"}, "email"),
        ({"email": None}, "email"),
        ({"code": "A-police"}, "code"),
        ({"name": ""}, "name"),
    ):
        _refused(
            api,
            "POST",
            "/api/v1/agencies",
            "admin@test.vn",
            422,
            field,
            json={**body, "code": "A-new", **changes},
        )
    codes = {a["code"] for a in api.get("/api/v1/agencies", "chair_a@test.vn").get_json()["items"]}
    assert "A-shelter" in codes and "A-new" not in codes


def test_users_are_created_with_checked_role_unit_agency_and_password(api, world):
    body = {
        "email": "New.Officer@Test.vn",
        "name": "Cán bộ mới",
        "password": PASSWORD,
        "role": "officer",
        "org_unit": "B",
        "agency": None,
    }
    resp = api.post("/api/v1/users", "admin@test.vn", json=body)
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    assert (created["email"], created["role"], created["org_unit"]) == ("new.officer@test.vn", "officer", "B")
    assert "password" not in json.dumps(created) and "hash" not in json.dumps(created)
    assert api.get("/api/v1/me", "new.officer@test.vn").get_json()["org_unit"] == "B"

    staff = {
        "email": "nurse@test.vn",
        "name": "Y tá",
        "password": PASSWORD,
        "role": "agency_staff",
        "agency": "C-health",
    }
    resp = api.post("/api/v1/users", "admin@test.vn", json=staff)
    assert resp.status_code == 201 and resp.get_json()["org_unit"] == "C"

    base = {**body, "email": "x@test.vn"}
    for changes, field in (
        ({"password": "short-pass1"}, "password"),  # 11 characters
        ({"password": ""}, "password"),
        ({"password": None}, "password"),
        ({"password": 123456789012}, "password"),
        ({"role": "superuser"}, "role"),
        ({"role": None}, "role"),
        ({"org_unit": "P"}, "org_unit"),  # officers belong to a commune
        ({"org_unit": "ZZ"}, "org_unit"),
        ({"org_unit": None}, "org_unit"),
        ({"agency": "ZZ"}, "agency"),
        ({"email": "no-at-sign"}, "email"),
        ({"email": "OFFICER_A@test.vn"}, "email"),  # already registered, whatever the case
        ({"name": None}, "name"),
        ({"role": "agency_staff", "agency": None}, "agency"),
        ({"role": "supervisor", "org_unit": None}, "org_unit"),
    ):
        _refused(api, "POST", "/api/v1/users", "admin@test.vn", 422, field, json={**base, **changes})
    # Twelve characters are no longer enough on their own: the password must be hard to guess.
    for guessable in ("x" * 12, "password1234", "qwertyuiop12"):
        _refused(
            api,
            "POST",
            "/api/v1/users",
            "admin@test.vn",
            422,
            "password",
            json={**base, "password": guessable},
        )
    twelve = api.post("/api/v1/users", "admin@test.vn", json={**base, "password": "river-lantern-quietly"})
    assert twelve.status_code == 201
    emails = {u["email"] for u in api.get("/api/v1/users", "admin@test.vn").get_json()["items"]}
    assert {"new.officer@test.vn", "nurse@test.vn", "x@test.vn"} <= emails


def test_informant_without_consent_stores_no_name_or_phone(api, world):
    payload = new_case_payload(
        "A", informant={"name": "Người Giấu Tên", "phone": "0911222333", "consent": False}
    )
    case = api.post("/api/v1/cases", "officer_a@test.vn", json=payload).get_json()
    informant = db.session.scalar(select(Informant).where(Informant.case_id == case["id"]))
    assert (informant.consent, informant.name, informant.phone) == (False, None, None)
    detail = api.get(f"/api/v1/cases/{case['id']}", "officer_a@test.vn")
    assert detail.get_json()["informant"] == {"consent": False, "name": None, "phone": None}
    assert b"0911222333" not in detail.get_data()
    events = api.get(f"/api/v1/cases/{case['id']}/events", "officer_a@test.vn")
    assert b"0911222333" not in events.get_data()


def test_informant_with_consent_is_kept_for_the_commune(api, world):
    case = api.post("/api/v1/cases", "officer_a@test.vn", json=new_case_payload("A")).get_json()
    detail = api.get(f"/api/v1/cases/{case['id']}", "officer_a@test.vn").get_json()
    assert detail["informant"] == {"consent": True, "name": "Người Báo", "phone": "0900000000"}
    assert detail["child"]["full_name"] == "Bé Thử Nghiệm"


def test_defaults_residence_to_incident_and_received_at_to_now(api, world):
    before = datetime.now(UTC)
    payload = new_case_payload("A")
    case = api.post("/api/v1/cases", "officer_a@test.vn", json=payload).get_json()
    assert case["residence_commune"] == "A"
    assert before - timedelta(seconds=1) <= datetime.fromisoformat(case["received_at"]) <= datetime.now(UTC)
    assert case["reference"] == f"TT-{datetime.now(VN).year}-{case['id']:06d}"


# -- no value in any field of any body is a 500 ------------------------------------------------------

ODD_VALUES = [None, [], {"a": {"b": 1}}, 10**30, True, "x" * 300, "\x00", ["A"]]


def _field_paths(value, prefix=()):
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, item in items:
        yield (*prefix, key)
        yield from _field_paths(item, (*prefix, key))


def _with(body, path, value):
    body = json.loads(json.dumps(body))
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


def test_no_value_in_any_field_of_any_body_is_a_500(api, open_case, fire):
    case = open_case()
    verified = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    counter = iter(range(10**6))
    # Each body is valid but for one field left invalid on purpose, so that most odd values
    # reach the deepest checks; "unique" fields get a fresh value on every call.
    targets = [
        ("/api/v1/cases", "officer_a@test.vn", new_case_payload("A"), None),
        (
            f"/api/v1/cases/{verified['id']}/transitions",
            "officer_a@test.vn",
            {
                "trigger": "submit_plan",
                "version": verified["version"],
                "data": {"measures": _plan()["measures"], "plan": None},
            },
            None,
        ),
        (
            f"/api/v1/cases/{case['id']}/transitions",
            "chair_a@test.vn",
            {"trigger": "handover", "version": case["version"], "data": {"residence_commune": "B"}},
            None,
        ),
        (f"/api/v1/cases/{case['id']}/notes", "officer_a@test.vn", {"text": "t"}, None),
        (
            f"/api/v1/tasks/{case['tasks'][0]['id']}/complete",
            "officer_a@test.vn",
            {"note": "n", "outcome": None},
            None,
        ),
        (
            "/api/v1/org-units",
            "admin@test.vn",
            {
                "code": "Z",
                "name": "n",
                "level": "commune",
                "parent": "P",
                "valid_from": "2020-01-01",
                "valid_to": "2030-01-01",
            },
            "code",
        ),
        (
            "/api/v1/agencies",
            "admin@test.vn",
            {"code": "Z", "name": "n", "kind": "police", "org_unit": "A", "email": "a@agency.test"},
            "code",
        ),
        (
            "/api/v1/users",
            "admin@test.vn",
            {
                "email": "z@test.vn",
                "name": "n",
                "password": PASSWORD,
                "role": "agency_staff",
                "org_unit": "A",
                "agency": "A-police",
            },
            "email",
        ),
        ("/api/v1/auth/token", None, {"email": "officer_a@test.vn", "password": PASSWORD}, None),
    ]
    for url, who, base, unique in targets:
        for path in list(_field_paths(base)):
            for value in ODD_VALUES:
                body = _with(base, path, value)
                if unique and path != (unique,):
                    body[unique] = f"z{next(counter)}@test.vn" if unique == "email" else f"Z{next(counter)}"
                resp = api.post(url, who, json=body) if who else api.client.post(url, json=body)
                assert resp.status_code < 500, (url, path, value)
    for field in ("kind", "name"):
        for value in ODD_VALUES:
            body = _with({"kind": "holiday", "name": "x"}, (field,), value)
            assert api.put("/api/v1/calendar/2026-03-03", "admin@test.vn", json=body).status_code < 500


def test_a_plan_measure_cannot_go_to_an_agency_outside_the_case(api, open_case, fire):
    case = fire(
        open_case(),
        "verify",
        "officer_a@test.vn",
        {"risk_level": "low", "serious_harm": False, "caregiver_is_abuser": False, "findings": "f"},
    )
    due = "2099-01-01T00:00:00+07:00"
    resp = api.post(
        f"/api/v1/cases/{case['id']}/transitions",
        "officer_a@test.vn",
        json={
            "trigger": "submit_plan",
            "version": case["version"],
            "data": {"plan": "p", "measures": [{"agency": "B-health", "description": "d", "due_at": due}]},
        },
    )
    assert resp.status_code == 422
    assert "data.measures[0].agency" in resp.get_json()["error"]["fields"]
    ok = fire(
        case,
        "submit_plan",
        "officer_a@test.vn",
        {"plan": "p", "measures": [{"agency": "P-hotline", "description": "monitor", "due_at": due}]},
    )
    assert ok["state"] == "planned"


def test_two_admins_adding_the_same_code_at_once_get_a_409_not_a_500(app, world, monkeypatch):
    import pytest

    from caseflow.extensions import db
    from caseflow.models import OrgUnit
    from caseflow.services import reference
    from caseflow.services.errors import Conflict

    # The second writer passed the "code unused" check before the first committed: simulate by
    # inserting the row behind the service's back between its check and its write.
    original = reference.add_org_unit

    def racing_add(code, *args, **kwargs):
        db.session.add(
            OrgUnit(
                code=code, name="other", level="commune", path=f"/P/{code}/", parent_id=world.units["P"].id
            )
        )
        db.session.flush()
        return original(code, *args, **kwargs)

    monkeypatch.setattr(reference, "add_org_unit", racing_add)
    with pytest.raises(Conflict):
        reference.create_org_unit({"code": "NEW", "name": "New", "level": "commune", "parent": "P"})
    assert (
        db.session.scalar(db.select(db.func.count()).select_from(OrgUnit).where(OrgUnit.code == "NEW")) == 0
    )
