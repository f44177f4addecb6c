"""The branches beside the main path, on the pages: separation and its cap, step tasks that a
form cannot mark done, a report of serious harm at intake, handover acceptance, revised
measures, and what the hotline sees of the cases it reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from caseflow.extensions import db
from caseflow.models import Case, Task
from caseflow.workflow.clock import LOCAL_TZ
from tests.conftest import new_case_payload

CHILD = new_case_payload()["child"]["full_name"]
VERIFY_ABUSER = {"risk_level": "high", "serious_harm": False, "caregiver_is_abuser": True, "findings": "F"}
VERIFY_MILD = {**VERIFY_ABUSER, "risk_level": "low", "caregiver_is_abuser": False}


def _day(days: int):
    return datetime.now(LOCAL_TZ).date() + timedelta(days=days)


def _separate(chair, case: dict, days: int, **extra):
    url = f"/cases/{case['id']}"
    data = {
        "separate-version": case["version"],
        "separate-ground": "caregiver_abuser",
        "separate-decision_number": "07/QĐ-UBND",
        "separate-shelter": "Nhà tạm lánh",
        "separate-alternative_carer": "Bà ngoại",
        "separate-until": _day(days).isoformat(),
        **extra,
    }
    return chair.post(f"{url}/actions/separate", data, token_from=url)


def test_the_chair_separates_from_the_case_page_and_every_list_says_until_when(web, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_ABUSER)
    chair = web("chair_a")
    page = chair.text(f"/cases/{case['id']}")
    assert "Cha, mẹ, người chăm sóc trẻ em là người xâm hại trẻ em" in page  # the grounds, in words
    assert "caregiver_abuser</option>" not in page and "extend_separation" not in page
    resp = _separate(chair, case, 10)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    badge = f"Đang tạm thời cách ly đến {_day(10).strftime('%d/%m/%Y')}"
    page = chair.text(f"/cases/{case['id']}")
    assert badge in page and "07/QĐ-UBND" in page and "Nhà tạm lánh" in page
    assert 'id="action-extend_separation"' in page and 'id="action-separate"' not in page
    assert badge in web("officer_a").text("/cases")
    assert badge in web("officer_a").text("/tasks")  # the expiry task, and the case's others
    supervisor = web("supervisor_p")
    assert badge in supervisor.text("/cases")
    supervised = supervisor.text(f"/cases/{case['id']}")
    assert badge in supervised and "Nhà tạm lánh" not in supervised  # not where the child is


def test_beyond_the_cap_the_page_says_why_and_nothing_changes(web, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_ABUSER)
    resp = _separate(web("chair_a"), case, 20)
    assert resp.status_code == 422
    assert "Tối đa 15 ngày kể từ quyết định đầu tiên" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, case["id"]).separation is None


def test_an_officer_cannot_extend_a_separation_from_the_page(web, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_ABUSER)
    assert _separate(web("chair_a"), case, 5).status_code == 302
    officer = web("officer_a")
    url = f"/cases/{case['id']}"
    assert 'id="action-extend_separation"' not in officer.text(url)
    resp = officer.post(
        f"{url}/actions/extend_separation",
        {
            "extend_separation-version": case["version"] + 1,
            "extend_separation-until": _day(9).isoformat(),
            "extend_separation-reason": "x",
        },
        token_from=url,
    )
    assert resp.status_code == 403
    db.session.expire_all()
    assert db.session.get(Case, case["id"]).separation["until"] == _day(5).isoformat()


def test_a_step_task_posted_as_done_stays_open_and_the_page_says_why(web, open_case):
    case = open_case()
    [verify] = case["tasks"]
    officer = web("officer_a")
    work = officer.text("/tasks")
    assert f"/tasks/{verify['id']}/complete" not in work
    resp = officer.post(
        f"/tasks/{verify['id']}/complete", {"outcome": "Verified", "next": "/tasks"}, token_from="/tasks"
    )
    assert resp.status_code == 302
    assert "được hoàn thành bằng bước xử lý trên trang hồ sơ" in officer.text("/tasks")
    db.session.expire_all()
    assert db.session.get(Task, verify["id"]).status == "open"


def test_a_report_of_serious_harm_ticked_at_intake_opens_the_emergency_tasks(web, world):
    officer = web("officer_a")
    resp = officer.post(
        "/cases/new",
        {
            "channel": "police",
            "incident_commune": "A",
            "residence_commune": "",
            "harm_types": ["violence"],
            "serious_harm": "y",
            "summary": "Police at the scene.",
            "child-full_name": CHILD,
            "child-date_of_birth": "2016-05-01",
            "child-sex": "male",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    [case] = db.session.query(Case).all()
    kinds = sorted(t.kind for t in case.tasks)
    assert kinds == ["emergency_protection", "emergency_protection", "evidence_preservation", "verify"]
    assert all(t.due_at == case.received_at + timedelta(hours=12) for t in case.tasks)


def test_the_receiving_commune_accepts_a_handover_from_the_case_page(web, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    case = fire(case, "handover", "officer_a@test.vn", {"residence_commune": "B"})
    officer_b = web("officer_b")
    url = f"/cases/{case['id']}"
    page = officer_b.text(url)
    assert "đang chờ xã đó trả lời" in page and CHILD not in page and "Nhật ký hồ sơ" not in page
    assert 'id="action-accept_handover"' in page and 'id="action-submit_plan"' not in page
    resp = officer_b.post(
        f"{url}/actions/accept_handover", {"accept_handover-version": case["version"]}, token_from=url
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    page = officer_b.text(url)
    assert CHILD in page and 'id="action-submit_plan"' in page


def test_revise_measures_from_the_page_cancels_one_and_waits_for_the_chair(web, open_case, fire):
    due = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    case = fire(open_case(), "verify", "officer_a@test.vn", VERIFY_MILD)
    plan = {"plan": "P", "measures": [{"agency": "A-health", "description": "Visit", "due_at": due}]}
    case = fire(fire(case, "submit_plan", "officer_a@test.vn", plan), "approve_plan", "chair_a@test.vn")
    [measure] = [t for t in case["tasks"] if t["kind"] == "measure"]
    officer = web("officer_a")
    url = f"/cases/{case['id']}"
    assert f'value="{measure["id"]}"' in officer.text(url)  # the open measure, to tick
    resp = officer.post(
        f"{url}/actions/revise_measures",
        {
            "revise_measures-version": case["version"],
            "revise_measures-cancel": str(measure["id"]),
            "revise_measures-reason": "No staff",
            "revise_measures-measures-0-agency": "A-police",
            "revise_measures-measures-0-description": "Patrol",
            "revise_measures-measures-0-due_date": (
                datetime.now(LOCAL_TZ).date() + timedelta(days=5)
            ).isoformat(),
        },
        token_from=url,
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    page = web("chair_a").text(url)
    assert "Biện pháp bổ sung chờ Chủ tịch phê duyệt" in page and "Patrol" in page
    assert 'id="action-approve_measures"' in page
    db.session.expire_all()
    assert db.session.get(Task, measure["id"]).status == "cancelled"


def test_the_hotline_sees_the_cases_it_reported_but_not_the_child(web, open_case, fire):
    case = fire(open_case("A", as_="hotline@test.vn"), "verify", "officer_a@test.vn", VERIFY_MILD)
    hotline = web("hotline")
    listed = hotline.text("/cases")
    assert case["reference"] in listed
    page = hotline.text(f"/cases/{case['id']}")
    assert case["reference"] in page and "Đã xác minh, đánh giá" in page
    assert CHILD not in page and "Người Báo" not in page


def test_the_officer_sees_a_possible_earlier_report_and_the_supervisor_does_not(web, open_case):
    first = open_case("A")
    again = open_case("A", child={**new_case_payload()["child"], "full_name": "be thu  nghiem"})
    note = f"Có thể đã có thông báo trước đây: {first['reference']}"
    assert note in web("officer_a").text(f"/cases/{again['id']}")
    assert first["reference"] not in web("supervisor_p").text(f"/cases/{again['id']}")
