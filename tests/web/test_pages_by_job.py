"""What each person's pages say: My work split by job, the case page's parts shown to who may see
them, the trail in words, and measure rows that work without scripts."""

from __future__ import annotations

import re

from caseflow.extensions import db
from caseflow.models import Case

ROUTINE = {"risk_level": "medium", "serious_harm": False, "caregiver_is_abuser": False, "findings": "ok"}
SERIOUS = {"risk_level": "high", "serious_harm": True, "caregiver_is_abuser": False, "findings": "F"}


def _section(body: str, heading_id: str) -> str:
    """The HTML of the <section> whose heading has `heading_id` ('' when absent)."""
    match = re.search(rf'<section aria-labelledby="{heading_id}".*?</section>', body, re.S)
    return match.group(0) if match else ""


def _visible(html: str) -> str:
    html = re.sub(r"(?s)<(script|style|template)\b.*?</\1>", " ", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_an_officer_does_now_what_is_theirs_and_follows_police_and_health_work(web, open_case, fire):
    fire(open_case(), "verify", "officer_a@test.vn", SERIOUS)
    body = web("officer_a").text("/tasks")
    now, follow = _section(body, "now-h"), _section(body, "follow-h")
    assert "Xây dựng kế hoạch" in now and "#action-submit_plan" in now  # their step, as a button
    assert "Bảo vệ khẩn cấp" not in now  # police and health act on those...
    assert follow.count("Bảo vệ khẩn cấp") == 2  # ...which the officer follows
    assert "/complete" not in follow


def test_a_chair_sees_first_what_waits_for_their_decision(web, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", ROUTINE)
    due = "2099-01-31T23:59:59+07:00"
    fire(
        case,
        "submit_plan",
        "officer_a@test.vn",
        {"plan": "P", "measures": [{"agency": "A-health", "description": "D", "due_at": due}]},
    )
    page = web("chair_a").text(f"/cases/{case['id']}")
    assert "health A</strong>: D · hạn 31/01/2099" in _section(page, "facts-h")  # what they approve
    body = web("chair_a").text("/tasks")
    decide = _section(body, "decide-h")
    assert "Phê duyệt kế hoạch" in decide and "#action-approve_plan" in decide
    assert body.index('id="decide-h"') < body.index('id="now-h"')
    officer = web("officer_a").text("/tasks")
    assert 'id="decide-h"' not in officer and "#action-approve_plan" not in _section(officer, "now-h")


def test_agency_staff_see_each_task_as_one_card_with_its_action(web, open_case, fire):
    for _ in range(2):
        fire(open_case(), "verify", "officer_a@test.vn", SERIOUS)
    body = web("police_a").text("/tasks")
    now = _section(body, "now-h")
    # Two cases, each with the police's emergency task and its evidence task (Art. 31).
    assert now.count('<li class="task') == 4 and now.count('action="/tasks/') == 4
    assert 'id="follow-h"' not in body


def test_the_case_page_has_one_next_steps_section_and_says_who_takes_the_others(web, open_case):
    case = open_case()
    body = web("officer_a").text(f"/cases/{case['id']}")
    assert body.count('id="next-h"') == 1 and "Việc bạn có thể làm bây giờ" not in body
    assert f'action="/cases/{case["id"]}/actions/verify"' in body
    chair_only = _section(web("supervisor_p").text(f"/cases/{case['id']}"), "next-h")
    assert "Xác minh và đánh giá nguy cơ" in chair_only and "<form" not in chair_only


def test_child_family_and_informant_each_have_their_place_for_who_may_see_them(web, open_case, fire):
    case = open_case()
    url = f"/cases/{case['id']}"
    officer = web("officer_a").text(url)
    for heading in ("child-h", "family-h", "informant-h"):
        assert _section(officer, heading), heading
    assert "Người Báo" in _section(officer, "informant-h") and "Người Báo" not in _section(officer, "child-h")
    supervisor = web("supervisor_p").text(url)
    assert not _section(supervisor, "family-h") and not _section(supervisor, "informant-h")
    fire(case, "verify", "officer_a@test.vn", SERIOUS)
    police = web("police_a").text(url)
    assert _section(police, "child-h") and not _section(police, "informant-h")


def test_the_police_case_number_appears_only_with_a_referral(web, open_case, fire):
    received = open_case()
    form = web("officer_a").text(f"/cases/{received['id']}")
    # In the verify form the number sits with the referral box, which the page's script follows.
    assert 'data-shown-with="verify-criminal_referral"' in form
    case = fire(received, "verify", "officer_a@test.vn", ROUTINE)
    url = f"/cases/{case['id']}"
    facts = _section(web("officer_a").text(url), "facts-h")
    assert "Số vụ việc của công an" not in facts
    fire(
        case,
        "refer_criminal",
        "officer_a@test.vn",
        {"criminal_referral": True, "police_case_number": "CA-77"},
    )
    body = web("officer_a").text(url)
    assert "Số vụ việc của công an" in _section(body, "facts-h") and "CA-77" in _section(body, "facts-h")


def test_the_trail_speaks_in_labels_and_names_never_codes(web, open_case, fire, app):
    case = fire(open_case(), "verify", "officer_a@test.vn", SERIOUS)
    body = web("officer_a").text(f"/cases/{case['id']}")
    trail = _visible(_section(body, "trail-h"))
    assert "by verify" not in body and "A-police" not in trail and "emergency_protection" not in trail
    assert "Hoàn thành nhiệm vụ: Kiểm tra, xác minh và đánh giá nguy cơ ban đầu, qua bước: Xác minh" in trail
    assert "giao police A" in trail  # the agency by its name
    received = _visible(_section(body, "facts-h")).split("Tiếp nhận", 1)[1][:40]
    when = re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", received).group(0)
    assert f"tiếp nhận lúc {when}" in trail  # the page and the trail give the same reception time
    definition = app.extensions["caseflow_engine"].definition
    codes = {*definition.transitions, *{t.kind for t in definition.tasks.values()}, *definition.states}
    assert not [c for c in codes if re.search(rf"\b{c}\b", trail)]
    tasks = _visible(_section(body, "tasks-h"))
    assert "qua bước: Xác minh và đánh giá nguy cơ" in tasks and "by verify" not in tasks


def test_measure_rows_are_added_and_removed_without_scripts(web, open_case, fire):
    case = fire(open_case(), "verify", "officer_a@test.vn", ROUTINE)
    url = f"/cases/{case['id']}"
    officer = web("officer_a")
    form = {
        "submit_plan-version": case["version"],
        "submit_plan-plan": "Support",
        "submit_plan-measures-0-agency": "A-health",
        "submit_plan-measures-0-description": "Check-up",
        "submit_plan-measures-0-due_date": "2099-01-31",
    }
    resp = officer.post(f"{url}/actions/submit_plan", {**form, "add_measure": "1"}, token_from=url)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="submit_plan-measures-1-agency"' in page
    assert 'value="Check-up"' in page  # what was typed stays
    assert db.session.get(Case, case["id"]).state == "verified"  # nothing saved
    resp = officer.post(f"{url}/actions/submit_plan", {**form, "remove_measure": "0"}, token_from=url)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert (
        re.sub(r"(?s)<template.*?</template>", "", page).count('name="remove_measure"') == 1
    )  # the last row stays, so the plan can still be given


def test_my_work_lists_the_tasks_in_each_persons_reach_and_no_others(web, open_case):
    """My work looks tasks up from the cases in reach (a commune's people) or from the tasks' own
    copy of their case's communes (supervisors): the same tasks either way, on both backends."""
    lives_in_b = open_case("A", residence_commune="B")["reference"]
    only_a, only_c = open_case("A")["reference"], open_case("C")["reference"]

    def listed(key: str) -> set[str]:
        body = web(key).text("/tasks")
        return {ref for ref in (lives_in_b, only_a, only_c) if ref in body}

    assert listed("officer_a") == {lives_in_b, only_a}
    assert listed("chair_b") == {lives_in_b}  # the child lives there
    assert listed("officer_c") == {only_c}
    assert listed("supervisor_d") == {only_c}  # the historic district's commune only
    assert listed("supervisor_p") == {lives_in_b, only_a, only_c}
