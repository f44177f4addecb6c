"""Intake, the case page, actions from the definition, tasks and who sees what."""

from __future__ import annotations

import re

from caseflow.extensions import db
from caseflow.models import Case, CaseEvent
from tests.conftest import new_case_payload

CHILD = "Bé Thử Nghiệm"


def _intake_form(**overrides) -> dict:
    form = {
        "channel": "hotline_111",
        "incident_commune": "A",
        "residence_commune": "",
        "harm_types": ["violence", "neglect"],
        "summary": "Neighbour heard shouting.",
        "child-full_name": CHILD,
        "child-date_of_birth": "2016-05-01",
        "child-sex": "female",
        "child-address": "Thôn 1",
        "child-family": "Lives with grandmother",
        "informant-name": "Người Báo",
        "informant-phone": "0900000000",
        "informant-consent": "y",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def _case_id(location: str) -> int:
    return int(re.search(r"/cases/(\d+)$", location).group(1))


def test_intake_opens_the_new_case_on_its_page(web):
    officer = web("officer_a")
    page = officer.text("/cases/new")
    assert '<option selected value="A">' in page  # the officer's own commune is preselected
    resp = officer.post("/cases/new", _intake_form())
    assert resp.status_code == 302
    case = db.session.get(Case, _case_id(resp.location))
    assert case.state == "received" and case.harm_types == ["violence", "neglect"]
    assert case.child.full_name == CHILD and case.child.family == "Lives with grandmother"
    assert case.informant.consent and case.informant.name == "Người Báo"
    body = officer.text(resp.location)
    assert case.reference in body and CHILD in body
    title = re.search(r"<title>(.*?)</title>", body, re.S).group(1)
    assert CHILD not in title and case.reference in title


def test_intake_errors_appear_next_to_each_field(web):
    officer = web("officer_a")
    resp = officer.post(
        "/cases/new",
        _intake_form(**{"child-full_name": "", "child-date_of_birth": "", "harm_types": None, "summary": ""}),
    )
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    for field_id in ("child-full_name", "child-date_of_birth", "harm_types", "summary"):
        assert f'id="{field_id}-error"' in body, field_id
    assert db.session.scalar(db.select(db.func.count()).select_from(Case)) == 0


def test_intake_without_consent_keeps_no_informant_identity(web):
    officer = web("officer_a")
    resp = officer.post("/cases/new", _intake_form(**{"informant-consent": None}))
    case = db.session.get(Case, _case_id(resp.location))
    assert case.informant is not None and not case.informant.consent and case.informant.name is None


def test_every_case_page_view_is_written_to_the_trail(web, open_case):
    case = open_case()
    officer = web("officer_a")
    officer.text(f"/cases/{case['id']}")
    officer.text(f"/cases/{case['id']}")
    reads = db.session.scalars(
        db.select(CaseEvent).where(CaseEvent.case_id == case["id"], CaseEvent.kind == "read")
    ).all()
    assert len(reads) == 2 and all(r.data["identity_shown"] for r in reads)


def test_another_communes_case_is_not_found_by_changing_the_url(web, open_case):
    case = open_case("A")
    assert web("officer_b").get(f"/cases/{case['id']}").status_code == 404
    assert web("police_b").get(f"/cases/{case['id']}").status_code == 404
    assert web("supervisor_d").get(f"/cases/{case['id']}").status_code == 404
    assert CHILD not in web("officer_b").get(f"/cases/{case['id']}").get_data(as_text=True)


def test_case_page_offers_the_steps_of_the_definition_in_one_section(web, open_case, app):
    case = open_case()
    body = web("officer_a").text(f"/cases/{case['id']}")
    definition = app.extensions["caseflow_engine"].definition
    assert definition.states["received"].label["vi"] in body
    assert body.count('id="next-h"') == 1 and "Các bước tiếp theo có thể" not in body
    assert f'action="/cases/{case["id"]}/actions/verify"' in body
    assert f'action="/cases/{case["id"]}/actions/dismiss"' in body
    assert "/actions/approve_plan" not in body  # a chair's action, not the officer's
    assert f'name="verify-version" type="hidden" value="{case["version"]}"' in body


def test_verify_with_serious_harm_through_the_form_creates_emergency_tasks(web, open_case):
    case = open_case()
    officer = web("officer_a")
    url = f"/cases/{case['id']}"
    resp = officer.post(
        f"{url}/actions/verify",
        {
            "verify-version": case["version"],
            "verify-risk_level": "high",
            "verify-serious_harm": "yes",
            "verify-caregiver_is_abuser": "no",
            "verify-findings": "Bruises seen by the health station.",
        },
        token_from=url,
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    kinds = sorted(t.kind for t in db.session.get(Case, case["id"]).tasks if t.status == "open")
    assert kinds == ["draft_plan", "emergency_protection", "emergency_protection", "evidence_preservation"]
    police = web("police_a")
    work = police.text("/tasks")
    assert case["reference"] in work and "Điều 26.3, 31" in work


def test_action_form_errors_are_shown_by_the_field(web, open_case):
    case = open_case()
    officer = web("officer_a")
    url = f"/cases/{case['id']}"
    resp = officer.post(
        f"{url}/actions/verify", {"verify-version": case["version"], "verify-findings": ""}, token_from=url
    )
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert 'id="verify-risk_level-error"' in body and 'id="verify-serious_harm-error"' in body
    assert '<details class="action" id="action-verify" open>' in body


def test_a_stale_version_gets_a_clear_conflict_message(web, open_case, fire):
    case = open_case()
    officer = web("officer_a")
    url = f"/cases/{case['id']}"
    token = officer.token(url)
    fire(case, "handover", "chair_a@test.vn", {"residence_commune": "B"})  # someone else moves it on
    resp = officer.post(
        f"{url}/actions/dismiss",
        {"dismiss-version": case["version"], "dismiss-reason": "Unfounded", "csrf_token": token},
    )
    assert resp.status_code == 409
    assert "Người khác đã thay đổi hồ sơ" in resp.get_data(as_text=True)
    assert db.session.get(Case, case["id"]).state == "received"


def test_an_action_without_csrf_token_is_refused(web, open_case):
    case = open_case()
    resp = web("officer_a").client.post(
        f"/cases/{case['id']}/actions/dismiss",
        data={"dismiss-version": case["version"], "dismiss-reason": "x"},
    )
    assert resp.status_code == 400
    assert db.session.get(Case, case["id"]).state == "received"


def test_plan_submitted_through_the_form_and_approved_by_the_chair(web, open_case, fire):
    case = fire(
        open_case(),
        "verify",
        "officer_a@test.vn",
        {"risk_level": "medium", "serious_harm": False, "caregiver_is_abuser": False, "findings": "ok"},
    )
    url = f"/cases/{case['id']}"
    officer = web("officer_a")
    resp = officer.post(
        f"{url}/actions/submit_plan",
        {
            "submit_plan-version": case["version"],
            "submit_plan-plan": "Support at school and home",
            "submit_plan-measures-0-agency": "A-education",
            "submit_plan-measures-0-description": "Daily check",
            "submit_plan-measures-0-due_date": "2099-01-31",
        },
        token_from=url,
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    saved = db.session.get(Case, case["id"])
    assert saved.state == "planned" and saved.plan["measures"][0]["agency"] == "A-education"
    chair = web("chair_a")
    body = chair.text(url)
    assert "/actions/approve_plan" in body
    resp = chair.post(f"{url}/actions/approve_plan", {"approve_plan-version": saved.version}, token_from=url)
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case["id"]).state == "intervention"


def test_measure_errors_point_at_the_measure_row(web, open_case, fire):
    case = fire(
        open_case(),
        "verify",
        "officer_a@test.vn",
        {"risk_level": "low", "serious_harm": False, "caregiver_is_abuser": False, "findings": "ok"},
    )
    url = f"/cases/{case['id']}"
    resp = web("officer_a").post(
        f"{url}/actions/submit_plan",
        {
            "submit_plan-version": case["version"],
            "submit_plan-plan": "Plan",
            "submit_plan-measures-0-agency": "A-health",
            "submit_plan-measures-0-description": "",
            "submit_plan-measures-0-due_date": "2099-01-31",
        },
        token_from=url,
    )
    assert resp.status_code == 422
    assert 'id="submit_plan-measures-0-description-error"' in resp.get_data(as_text=True)


def test_agency_staff_see_their_task_and_the_child_only_while_it_is_open(web, open_case, fire, api):
    case = fire(
        open_case(),
        "verify",
        "officer_a@test.vn",
        {"risk_level": "high", "serious_harm": True, "caregiver_is_abuser": False, "findings": "F"},
    )
    url = f"/cases/{case['id']}"
    police = web("police_a")
    body = police.text(url)
    assert CHILD in body and "Nhật ký hồ sơ" not in body and "Người Báo" not in body
    assert "Trạm" not in body and "health A" not in body  # the health task is not theirs to see
    for task in (t for t in case["tasks"] if t["agency"] == "A-police"):  # the harm, the evidence
        resp = police.post(
            f"/tasks/{task['id']}/complete",
            {"outcome": "Abuser removed from home", "next": url},
            token_from=url,
        )
        assert resp.status_code == 302 and resp.location.endswith(url)
    assert CHILD not in police.text(url)


def test_supervisors_see_the_case_but_never_the_child(web, open_case):
    case = open_case()
    body = web("supervisor_p").text(f"/cases/{case['id']}")
    assert case["reference"] in body and CHILD not in body and "Người Báo" not in body


def test_my_work_shows_time_left_on_the_right_clock(web, open_case, fire):
    fire(
        open_case(),
        "verify",
        "officer_a@test.vn",
        {"risk_level": "low", "serious_harm": False, "caregiver_is_abuser": False, "findings": "ok"},
    )
    body = web("officer_a").text("/tasks")
    assert "ngày làm việc" in body  # draft_plan runs on working days
    open_case()
    body = web("officer_a").text("/tasks")
    assert re.search(r"Còn \d+ giờ \d+ phút", body)  # verify runs on wall-clock hours


def test_notes_are_added_and_listed(web, open_case):
    case = open_case()
    url = f"/cases/{case['id']}"
    officer = web("officer_a")
    resp = officer.post(f"{url}/notes", {"text": "Called the school."}, token_from=url)
    assert resp.status_code == 302
    assert "Called the school." in officer.text(url)


def test_payload_helper_matches_api_intake(open_case):
    assert new_case_payload()["child"]["full_name"] == CHILD


def test_tasks_closed_by_a_step_offer_the_step_not_a_done_button(web, open_case, fire):
    case = fire(
        open_case(),
        "verify",
        "officer_a@test.vn",
        {"risk_level": "high", "serious_harm": False, "caregiver_is_abuser": True, "findings": "F"},
    )
    body = web("chair_a").text("/tasks")
    draft = next(t for t in case["tasks"] if t["kind"] == "draft_plan")
    separation = next(t for t in case["tasks"] if t["kind"] == "separation_decision")
    assert f"/tasks/{draft['id']}/complete" not in body  # done by submitting the plan
    # The chair's decision is taken as a step too (separate, or decide not to), not ticked off.
    assert f"/tasks/{separation['id']}/complete" not in body
    page = web("chair_a").text(f"/cases/{case['id']}")
    assert 'id="action-separate"' in page and 'id="action-decline_separation"' in page
