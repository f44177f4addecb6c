"""Text that cannot be stored (a lone UTF-16 surrogate, NUL) is a 422 naming the field, on
every JSON input path. Before: a lone surrogate gave a 500 at sign-in, and stored in a note it
broke the case page for good."""

from __future__ import annotations

import json

from tests.conftest import new_case_payload

LONE = "\\ud800"  # as JSON sends it: the escape of half a surrogate pair


def _raw(api, method, url, who, body: str):
    headers = {"Content-Type": "application/json"}
    if who:
        headers["Authorization"] = f"Bearer {api.token(who)}"
    return api.client.open(url, method=method, data=body.encode(), headers=headers)


def test_a_lone_surrogate_at_sign_in_is_a_422_naming_the_field(api, world):
    resp = _raw(api, "POST", "/api/v1/auth/token", None, '{"email": "a' + LONE + '@x.vn", "password": "p"}')
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"] == {
        "email": "must be valid Unicode text (it holds a lone UTF-16 surrogate)"
    }


def test_a_lone_surrogate_in_a_note_is_refused_and_the_case_page_stays_whole(api, world, open_case, client):
    case = open_case()
    resp = _raw(
        api, "POST", f"/api/v1/cases/{case['id']}/notes", "officer_a@test.vn", '{"text": "x' + LONE + '"}'
    )
    assert resp.status_code == 422 and "text" in resp.get_json()["error"]["fields"]
    assert api.get(f"/api/v1/cases/{case['id']}/events", "officer_a@test.vn").status_code == 200


def test_a_lone_surrogate_deep_in_a_report_names_its_field(api, world):
    body = json.dumps(new_case_payload("A")).replace('"Thôn 1"', '"Thôn ' + LONE + '"')
    body = body.replace('"Th\\u00f4n 1"', '"Th\\u00f4n ' + LONE + '"')
    resp = _raw(api, "POST", "/api/v1/cases", "officer_a@test.vn", body)
    assert resp.status_code == 422, resp.get_json()
    assert list(resp.get_json()["error"]["fields"]) == ["child.address"]


def test_a_low_surrogate_in_trigger_data_and_a_key_are_refused(api, world, open_case):
    case = open_case()
    body = '{"trigger": "verify", "version": VERSION, "data": {"findings": "\\udc00", "risk_level": "low"}}'
    body = body.replace("VERSION", str(case["version"]))
    resp = _raw(api, "POST", f"/api/v1/cases/{case['id']}/transitions", "officer_a@test.vn", body)
    assert resp.status_code == 422 and "data.findings" in resp.get_json()["error"]["fields"]
    resp = _raw(
        api, "POST", f"/api/v1/cases/{case['id']}/notes", "officer_a@test.vn", '{"te' + LONE + 'xt": "a"}'
    )
    assert resp.status_code == 422


def test_a_valid_pair_of_surrogates_is_an_ordinary_character(api, world, open_case):
    case = open_case()
    resp = _raw(
        api, "POST", f"/api/v1/cases/{case['id']}/notes", "officer_a@test.vn", '{"text": "ok \\ud83d\\ude00"}'
    )
    assert resp.status_code == 201
    assert resp.get_json()["data"]["text"] == "ok \U0001f600"


def test_a_form_carrying_surrogate_bytes_keeps_the_case_page_whole(app, world, open_case):
    """Forms arrive as bytes: bytes that are not UTF-8 (a surrogate encoded as CESU-8) never become a
    lone surrogate (the form parser keeps them escaped), so the note is stored and the page renders."""
    from tests.web.conftest import Browser, csrf_token

    case = open_case()
    browser = Browser(app.test_client())
    assert browser.login("officer_a@test.vn").status_code == 302
    token = csrf_token(browser.text(f"/cases/{case['id']}"))
    body = b"csrf_token=" + token.encode() + b"&text=bad+%ED%A0%80+note"
    resp = browser.client.post(
        f"/cases/{case['id']}/notes", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert resp.status_code == 302
    page = browser.get(f"/cases/{case['id']}")
    assert page.status_code == 200
    from sqlalchemy import select

    from caseflow.extensions import db
    from caseflow.models import CaseEvent

    note = db.session.scalar(select(CaseEvent).where(CaseEvent.kind == "note"))
    note.data["text"].encode("utf-8")  # storable text: no lone surrogate got through
    assert note.data["text"].startswith("bad ") and note.data["text"] in page.get_data(as_text=True)
