"""The database agrees with the workflow file: a variant that renames a state gets a clear
error and a rename map instead of 500s, and a case opened under an older version of the
procedure is still shown and moved."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from caseflow import create_app
from caseflow.extensions import db
from tests.conftest import PASSWORD, ROOT, TEST_CONFIG

SHIPPED = ROOT / "workflows" / "decree56.yaml"
VERIFY_MILD = {"risk_level": "low", "serious_harm": False, "caregiver_is_abuser": False, "findings": "ok"}


def _renaming_variant(tmp_path, with_map: bool):
    """The shipped file with the state `verified` called `assessed`."""
    source = SHIPPED.read_text(encoding="utf-8")
    renamed = re.sub(r"(name: |dest: |source: \[)verified\b", r"\1assessed", source)
    # Prose ("the report was verified", a mail's text) may keep the word; no state name may.
    assert not re.search(r"(name: |dest: |source: \[)verified\b", renamed)
    if with_map:
        renamed += "\nrenamed: {verified: assessed}\n"  # the forms' `states:` follow the map
    else:
        # Without a map the author renamed the state everywhere, the annex forms' `states:` too.
        (tmp_path / "forms").mkdir(exist_ok=True)
        for form in (SHIPPED.parent / "forms").glob("*.yaml"):
            text = re.sub(r"(states: \[[^\]]*)\bverified\b", r"\1assessed", form.read_text(encoding="utf-8"))
            (tmp_path / "forms" / form.name).write_text(text, encoding="utf-8")
    path = tmp_path / ("renamed.yaml" if with_map else "dropped.yaml")
    path.write_text(renamed, encoding="utf-8")
    return path


def page_client_sign_in(client, email: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert (
        client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code
        == 302
    )


def _app_on(database_url: str, workflow) -> object:
    return create_app(
        {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "CASEFLOW_WORKFLOW": str(workflow)}
    )


def test_a_renamed_state_stops_requests_with_a_clear_error_until_the_cases_are_moved(
    api, open_case, fire, database_url, tmp_path
):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    assert case["state"] == "verified"
    token = api.token("officer_a@test.vn")
    db.session.remove()

    variant = _app_on(database_url, _renaming_variant(tmp_path, with_map=True))
    client = variant.test_client()
    resp = client.get(f"/api/v1/cases/{case['id']}", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 503
    message = resp.get_json()["error"]["message"]
    assert "1 case is in state 'verified'" in message and "--apply-renames" in message
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["workflow"] == "mismatch"

    runner = variant.test_cli_runner()
    with variant.app_context():  # the command runs in the variant's context, not the fixture's
        refused = runner.invoke(args=["caseflow", "check-workflow"])
        moved = runner.invoke(args=["caseflow", "check-workflow", "--apply-renames"])
    assert refused.exit_code == 1, refused.output
    assert "renames it to 'assessed'" in refused.output
    assert moved.exit_code == 0, moved.output
    assert "Moved 1: state verified -> assessed" in moved.output and "agrees" in moved.output

    restarted = _app_on(database_url, _renaming_variant(tmp_path, with_map=True)).test_client()
    body = restarted.get(
        f"/api/v1/cases/{case['id']}", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert body["state"] == "assessed"
    assert body["version"] == case["version"] + 1  # a form opened on the old state cannot be sent
    assert "submit_plan" in body["allowed_triggers"]


def test_a_dropped_state_without_a_rename_map_says_how_to_fix_it(open_case, fire, database_url, tmp_path):
    fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    db.session.remove()
    variant = _app_on(database_url, _renaming_variant(tmp_path, with_map=False))
    with variant.app_context():
        result = variant.test_cli_runner().invoke(args=["caseflow", "check-workflow"])
    assert result.exit_code == 1
    assert "add `renamed: {verified: <new name>}`" in result.output


def test_a_rename_map_must_lead_to_a_name_the_file_has(tmp_path):
    from caseflow.workflow.definition import WorkflowError, load_definition

    path = tmp_path / "bad.yaml"
    path.write_text(
        SHIPPED.read_text(encoding="utf-8") + "\nrenamed: {verified: asessed}\n", encoding="utf-8"
    )
    with pytest.raises(WorkflowError, match="'asessed' is no state or task"):
        load_definition(path)


def test_a_case_opened_under_an_older_procedure_version_is_shown_and_still_moves(
    api, client, open_case, fire, sql
):
    case = open_case()
    sql("UPDATE cases SET workflow_version = 'decree56/2016.0' WHERE id = :id", id=case["id"])
    db.session.commit()
    body = api.get(f"/api/v1/cases/{case['id']}", "officer_a@test.vn").get_json()
    assert body["workflow_version"] == "decree56/2016.0"
    moved = fire(body, "verify", "officer_a@test.vn", VERIFY_MILD)
    assert moved["state"] == "verified" and moved["workflow_version"] == "decree56/2016.0"
    assert (
        db.session.execute(
            text("SELECT count(*) FROM tasks WHERE case_id = :id"), {"id": case["id"]}
        ).scalar()
        >= 2
    )
    page_client_sign_in(client, "officer_a@test.vn")
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "decree56/2016.0" in page and "decree56/2017.1" in page  # opened under, handled under
