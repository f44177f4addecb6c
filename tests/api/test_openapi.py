"""The OpenAPI document is generated from the API's models: it describes every route, marks the
keys the API always returns, follows the loaded workflow file, and the requests are checked by
the same models in the contract's error shape."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from caseflow.api.schemas import Health
from caseflow.workflow import current_engine
from tests.conftest import ROOT, new_case_payload

VERIFY_MILD = {"risk_level": "low", "serious_harm": False, "caregiver_is_abuser": False, "findings": "ok"}


def _doc(client) -> dict:
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    return resp.get_json()


def _schema(doc: dict, ref_or_name: str) -> dict:
    return doc["components"]["schemas"][ref_or_name.rsplit("/", 1)[-1]]


def _api_operations(app) -> set[tuple[str, str]]:
    return {
        (re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len("/api/v1") :]), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_under_api_v1_is_described_with_its_answers(app, client):
    doc = _doc(client)
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    undeclared = sorted(_api_operations(app) - documented)
    assert not undeclared, f"declare these views with endpoint() (how: caseflow/api docstring): {undeclared}"
    assert documented == _api_operations(app)
    for path, method in _api_operations(app):
        op = doc["paths"][path][method]
        assert op["summary"] and not op["summary"].endswith(">"), (path, method)  # a docstring, not a name
        statuses = set(op["responses"])
        assert any(s.startswith("2") for s in statuses), (path, method)
        if op.get("security") != []:
            assert "401" in statuses, (path, method)
        if "requestBody" in op and path != "/auth/token":
            assert {"400", "413", "422"} <= statuses, (path, method)
        for status, answer in op["responses"].items():
            if status[0] in "45":
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, status)


def test_response_models_mark_the_keys_the_api_always_returns(client):
    doc = _doc(client)
    case = _schema(doc, "Case")
    assert {
        "id",
        "reference",
        "state",
        "version",
        "risk_level",
        "harm_types",
        "incident_commune",
        "residence_commune",
        "received_at",
        "closed_at",
        "summary",
        "findings",
        "plan",
        "tasks",
        "allowed_triggers",
    } <= set(case["required"])
    assert {"child", "informant"} <= set(case["properties"]) - set(case["required"])  # role-dependent
    task = _schema(doc, "Task")
    assert {"id", "kind", "agency", "status", "due_at", "overdue", "completed_at", "outcome"} <= set(
        task["required"]
    )
    assert set(_schema(doc, "TokenResponse")["required"]) == {"token", "expires_at"}
    for envelope in (
        "CaseList",
        "TaskList",
        "EventList",
        "UserList",
        "OrgUnitList",
        "AgencyList",
        "CalendarList",
    ):
        extra = {"total_exact"} if envelope == "CaseList" else set()  # the case list's count stops at a cap
        assert set(_schema(doc, envelope)["required"]) == {"items", "total", "page", "per_page"} | extra, (
            envelope
        )
    assert _schema(doc, "Error")["required"] == ["error"]
    assert set(_schema(doc, "ErrorDetail")["required"]) == {"code", "message"}
    ok = doc["paths"]["/auth/token"]["post"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/TokenResponse"}


def test_no_success_answers_with_a_loose_object_and_files_name_their_media_types(client):
    doc = _doc(client)
    loose = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for status, answer in op["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if status[0] != "2" or schema is None:
                    continue
                model = _schema(doc, schema["$ref"])
                if not model.get("properties") or not model.get("required"):
                    loose.append(f"{method.upper()} {path} {status}")
    assert not loose
    files = {
        ("/cases/{case_id}/documents/{name}", "get"): {
            "application/pdf",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        },
        ("/cases/{case_id}/attachments/{attachment_id}", "get"): {
            "application/pdf",
            "image/jpeg",
            "image/png",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        },
        ("/reports/periodic", "get"): {
            "application/json",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "text/csv",
        },
    }
    for (path, method), media_types in files.items():
        ok = doc["paths"][path][method]["responses"]["200"]
        assert set(ok["content"]) == media_types, path
        assert "Content-Disposition" in ok["headers"], path
    # The models of the routes that answered with open objects before.
    for name, required in {
        "FormDeclaration": {"code", "title", "short", "kind", "fields"},
        "FormFieldOut": {"name", "type", "required", "label", "identity"},
        "FormRecordOut": {
            "code",
            "revision",
            "recorded_at",
            "recorded_by",
            "recorded_with",
            "reason",
            "data",
        },
        "AttachmentOut": {"id", "filename", "size", "sha256", "content_type", "kind", "uploaded_at"},
        "PeriodicReport": {"org_unit", "from", "to", "level", "indicators"},
        "Indicator": {"code", "label", "value", "breakdown", "breakdowns"},
        "Obligation": {"id", "org_unit", "period", "due_at", "status", "submitted_at"},
        "SubmittedObligation": {"figures"},
        "AdhocReport": {"id", "case_id", "case_reference", "commune", "reasons", "harm_types", "created_at"},
        "CaseExport": {"exported_at", "case", "child", "informant", "tasks", "trail"},
        "AccessEntry": {"at", "actor", "role", "kind", "identity_shown", "view"},
        "MergeOut": {"unit", "into", "on", "moved"},
    }.items():
        assert required <= set(_schema(doc, name)["required"]), name
    for envelope in ("FormRecordList", "AttachmentList", "ObligationList", "AdhocList", "AccessLog"):
        assert set(_schema(doc, envelope)["required"]) == {"items", "total", "page", "per_page"}, envelope


def test_the_transition_body_is_one_schema_per_trigger_of_the_workflow_in_force(app, client):
    doc = _doc(client)
    body = doc["paths"]["/cases/{case_id}/transitions"]["post"]["requestBody"]["content"]["application/json"]
    union = _schema(doc, body["schema"]["$ref"])
    definition = current_engine().definition
    assert set(union["discriminator"]["mapping"]) == set(definition.transitions)
    assert len(union["oneOf"]) == len(definition.transitions)
    verify = _schema(doc, union["discriminator"]["mapping"]["verify"])
    data = _schema(doc, verify["properties"]["data"]["$ref"])
    assert set(data["required"]) == {f.name for f in definition.transitions["verify"].fields if f.required}
    assert data["properties"]["risk_level"]["enum"] == ["low", "medium", "high"]


class TestAProvinceCopyOfTheProcedure:
    """A province's copy of the procedure whose `verify` asks one more thing."""

    @pytest.fixture
    def app_config(self, tmp_path) -> dict:
        copy = tmp_path / "province.yaml"
        shutil.copy(ROOT / "workflows" / "decree56.yaml", copy)
        text = copy.read_text(encoding="utf-8")
        anchor = "      findings: {type: text, required: true, store: column}\n"
        assert anchor in text
        copy.write_text(text.replace(anchor, anchor + "      home_visit: {type: bool, required: true}\n", 1))
        return {"CASEFLOW_WORKFLOW": str(copy)}

    def test_a_field_added_to_a_trigger_is_documented_and_checked(self, client, api, open_case, fire):
        doc = _doc(client)
        data = _schema(doc, "VerifyData")
        assert "home_visit" in data["required"] and data["properties"]["home_visit"]["type"] == "boolean"
        case = open_case()
        for value, why in ((None, "is required"), ("yes", "must be true or false")):
            extra = {} if value is None else {"home_visit": value}
            resp = api.post(
                f"/api/v1/cases/{case['id']}/transitions",
                "officer_a@test.vn",
                json={"trigger": "verify", "version": case["version"], "data": {**VERIFY_MILD, **extra}},
            )
            assert resp.status_code == 422, resp.get_json()
            assert resp.get_json()["error"]["fields"] == {"data.home_visit": why}
        verified = fire(case, "verify", "officer_a@test.vn", {**VERIFY_MILD, "home_visit": True})
        assert verified["data"]["home_visit"] is True  # kept in the case's data map, no migration
        assert _schema(doc, "CaseData")["properties"]["home_visit"]["anyOf"][0] == {"type": "boolean"}


def test_bad_bodies_name_each_field_by_its_path(api, open_case, fire):
    resp = api.post(
        "/api/v1/cases",
        "officer_a@test.vn",
        json=new_case_payload(
            "A", harm_types=["violence", 5], channel="fax", child={"full_name": "X", "estimated_age": "ten"}
        ),
    )
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["fields"]
    assert fields == {
        "harm_types": "must be one of: violence, sexual_abuse, exploitation, trafficking, abandonment, neglect, other",
        "channel": "must be one of: hotline_111, police, school, health, commune, community, self, other",
        "child.estimated_age": "must be a whole number",
    }
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    resp = api.post(
        f"/api/v1/cases/{case['id']}/transitions",
        "officer_a@test.vn",
        json={
            "trigger": "submit_plan",
            "version": case["version"],
            "data": {"plan": "p", "measures": [{"agency": "A-health", "description": "  "}, 7]},
        },
    )
    assert resp.status_code == 422
    assert resp.get_json()["error"] == {
        "code": "invalid",
        "message": "Some fields are missing or invalid",
        "fields": {
            "data.measures[0].description": "must not be empty",
            "data.measures[0].due_at": "is required",
            "data.measures[1]": "must be an object",
        },
    }


def test_the_token_is_checked_before_the_body(app, client):
    """`endpoint` sits below `require_auth`: a caller without a token learns nothing from a 422."""
    doc = _doc(client)
    for path, method in _api_operations(app):
        op = doc["paths"][path][method]
        if "requestBody" not in op or op.get("security") == []:
            continue
        url = "/api/v1" + re.sub(r"{[^}]+}", "1", path)
        resp = client.open(url, method=method.upper(), json=[1])
        assert resp.status_code == 401, (method, path, resp.get_json())


def test_healthz_answers_as_its_model_says(client):
    Health.model_validate(client.get("/healthz").get_json())


def test_the_document_is_generated_once_per_app(app, client):
    first = client.get("/api/v1/openapi.json").get_data()
    assert client.get("/api/v1/openapi.json").get_data() == first
    assert Path(ROOT / "caseflow" / "api" / "openapi.py").exists() is False  # no hand-written copy


def test_a_multipart_body_is_checked_by_its_model_naming_each_field(app):
    from io import BytesIO

    from caseflow.api.schemas import File, Query, choice
    from caseflow.api.spec import _check_form
    from caseflow.services.errors import Invalid

    class Upload(Query):
        kind: choice(("report", "photo"))
        file: File

    def check(data: dict) -> dict:
        with app.test_request_context("/", method="POST", data=data, content_type="multipart/form-data"):
            try:
                _check_form(Upload)
            except Invalid as exc:
                return exc.fields
        return {}

    assert check({"kind": "other"}) == {"kind": "must be one of: report, photo", "file": "is required"}
    assert check({"kind": "photo", "file": (BytesIO(b"%PDF-1.4"), "a.pdf")}) == {}
