"""The procedure driven through Chromium: officer, police, chair and supervisor, each in their own browser."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from caseflow.extensions import db
from caseflow.models import Case, Task
from tests.web.conftest import PHONE, shoot, sign_in

pytestmark = pytest.mark.browser
CHILD = "Lò Thị Mẩy"


def _record_report(page) -> int:
    page.click("nav >> text=Tiếp nhận tin báo")
    page.select_option("#channel", "hotline_111")
    page.check("#harm_types-0")  # violence
    page.fill("#summary", "Hàng xóm nghe tiếng la hét, thấy trẻ bị bầm tím.")
    page.fill("#child-full_name", CHILD)
    page.fill("#child-estimated_age", "9")
    page.check("#child-sex-0")
    page.fill("#child-address", "Thôn Bản Chắt")
    page.fill("#child-family", "Sống với bố dượng")
    page.check("#informant-consent")
    page.fill("#informant-name", "Người hàng xóm")
    page.fill("#informant-phone", "0912345678")
    shoot(page, "intake-filled")
    page.click("form.intake button[type=submit]")
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def _submit(page, button) -> None:
    with page.expect_navigation():
        button.click()


def _db_case(case_id: int) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case_id)


def test_the_procedure_in_the_browser(new_page, world):
    officer = new_page()
    officer.goto("/login")
    shoot(officer, "login")
    sign_in(officer, "officer_a@test.vn")
    assert officer.locator("h1").inner_text() == "Việc của tôi"

    # The officer records a report (form 01) and lands on the new case's page.
    case_id = _record_report(officer)
    assert CHILD not in officer.title() and CHILD not in officer.url
    assert "Đã tiếp nhận" in officer.locator(".case-head .badge.state").inner_text()
    shoot(officer, "case-received")

    # Verification with serious harm: police and health get emergency tasks.
    verify = officer.locator("#action-verify")
    if verify.get_attribute("open") is None:
        verify.locator("summary").click()
    officer.select_option("#verify-risk_level", "high")
    officer.check("#verify-serious_harm-0")
    officer.check("#verify-caregiver_is_abuser-1")
    officer.fill("#verify-findings", "Trạm y tế xác nhận vết bầm. Trẻ sợ về nhà.")
    _submit(officer, verify.locator("button[type=submit]"))
    assert "Đã thực hiện" in officer.locator(".flash.success").inner_text()
    assert "Bảo vệ khẩn cấp" in officer.locator("#tasks-h + ol, section:has(#tasks-h)").first.inner_text()
    shoot(officer, "case-verified")
    assert _db_case(case_id).state == "verified"

    # Police staff see the emergency task in their work list and complete it.
    police = new_page()
    sign_in(police, "police_a@test.vn")
    task = police.locator("li.task", has_text="Bảo vệ khẩn cấp")
    assert task.count() == 1
    assert "Điều 26.3, 31" in task.inner_text()
    assert re.search(r"Còn \d+ giờ", task.locator(".due").inner_text())
    shoot(police, "my-work-police")
    task.locator("details.complete summary").click()
    task.locator("textarea[name=outcome]").fill("Đã tách người bị tố cáo khỏi nhà, lập biên bản.")
    _submit(police, task.locator("button[type=submit]"))
    assert "Đã hoàn thành nhiệm vụ" in police.locator(".flash.success").inner_text()
    assert police.locator("li.task", has_text="Bảo vệ khẩn cấp").count() == 0
    police.goto(f"/cases/{case_id}")
    assert "Nhật ký hồ sơ" not in police.content()  # agency staff see only what their task needs
    shoot(police, "case-police-view")

    # The officer submits the plan; the chair approves it.
    officer.goto(f"/cases/{case_id}")
    plan = officer.locator("#action-submit_plan")
    if plan.get_attribute("open") is None:
        plan.locator("summary").click()
    officer.fill("#submit_plan-plan", "Hỗ trợ tâm lý, theo dõi việc học, khám sức khỏe.")
    due = (datetime.now(UTC) + timedelta(days=10)).strftime("%Y-%m-%d")
    officer.select_option("#submit_plan-measures-0-agency", "A-health")
    officer.fill("#submit_plan-measures-0-description", "Khám và điều trị vết thương")
    officer.fill("#submit_plan-measures-0-due_date", due)
    # Rows are added and removed in place: the page does not reload (the URL and the typed text stay).
    url = officer.url
    for _ in range(2):
        plan.locator("button.add-measure").click()
    rows = plan.locator("[data-measure-list] > fieldset.measure")
    assert rows.count() == 3 and officer.url == url
    assert rows.nth(2).locator("legend").inner_text() == "Biện pháp 3"
    assert officer.evaluate("document.activeElement.id") == "submit_plan-measures-2-agency"
    rows.nth(1).locator("button.remove-measure").click()
    assert rows.count() == 2 and rows.nth(1).locator("legend").inner_text() == "Biện pháp 2"
    assert officer.input_value("#submit_plan-measures-0-description") == "Khám và điều trị vết thương"
    officer.select_option("#submit_plan-measures-2-agency", "A-education")
    officer.fill("#submit_plan-measures-2-description", "Theo dõi việc học hằng tuần")
    officer.fill("#submit_plan-measures-2-due_date", due)
    _submit(officer, plan.locator("button.primary[type=submit]"))
    saved = _db_case(case_id)
    assert saved.state == "planned"
    assert [m["agency"] for m in saved.plan["measures"]] == ["A-health", "A-education"]

    chair = new_page()
    sign_in(chair, "chair_a@test.vn")
    chair.goto(f"/cases/{case_id}")
    approve = chair.locator("#action-approve_plan")
    if approve.get_attribute("open") is None:
        approve.locator("summary").click()
    _submit(chair, approve.locator("button[type=submit]"))
    assert "Đang can thiệp" in chair.locator(".case-head .badge.state").inner_text()
    shoot(chair, "case-intervention-chair")
    assert _db_case(case_id).state == "intervention"

    # The supervisor sees the overdue count change when a deadline passes.
    supervisor = new_page()
    sign_in(supervisor, "supervisor_p@test.vn")
    before = int(supervisor.locator("#kpi-overdue").inner_text())
    open_task = db.session.scalars(
        db.select(Task).where(Task.case_id == case_id, Task.status == "open")
    ).first()
    open_task.due_at = datetime.now(UTC) - timedelta(hours=2)
    db.session.commit()
    supervisor.reload()
    assert int(supervisor.locator("#kpi-overdue").inner_text()) == before + 1
    shoot(supervisor, "supervision")
    supervisor.goto("/cases")
    assert supervisor.locator("table.list tbody tr").count() >= 1
    assert CHILD not in supervisor.content()
    shoot(supervisor, "case-list")
    supervisor.goto(f"/cases/{case_id}")
    assert CHILD not in supervisor.content()

    officer.goto("/tasks")
    shoot(officer, "my-work-officer")


def test_a_form_without_its_csrf_token_is_refused(new_page, world, open_case):
    case = open_case()
    page = new_page()
    sign_in(page, "officer_a@test.vn")
    page.goto(f"/cases/{case['id']}")
    form = page.locator("#action-dismiss form")
    page.evaluate(
        "document.querySelectorAll('#action-dismiss input[name$=csrf_token]').forEach(e => e.remove())"
    )
    page.locator("#action-dismiss summary").click()
    page.fill("#dismiss-reason", "Không có cơ sở")
    _submit(page, form.locator("button[type=submit]"))
    assert "Biểu mẫu đã hết hạn" in page.content()
    assert _db_case(case["id"]).state == "received"
    shoot(page, "error-csrf")


def test_another_communes_case_cannot_be_opened_by_changing_the_url(new_page, world, open_case):
    case = open_case("A")
    page = new_page(PHONE)
    sign_in(page, "officer_b@test.vn")
    response = page.goto(f"/cases/{case['id']}")
    assert response.status == 404
    assert "Không tìm thấy trang" in page.content() and "Bé Thử Nghiệm" not in page.content()
    shoot(page, "error-404")


def test_admin_pages_and_english_switch(new_page, world):
    page = new_page()
    sign_in(page, "admin@test.vn")
    shoot(page, "admin-users")
    page.goto("/admin/calendar")
    shoot(page, "admin-calendar")
    _submit(page, page.locator("button[name=locale][value=en]"))
    assert page.locator("h1").inner_text().startswith("Working-day calendar")
    assert page.locator("html").get_attribute("lang") == "en"


def test_keyboard_users_can_skip_to_the_content(new_page, world):
    page = new_page()
    sign_in(page, "officer_a@test.vn")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    assert skip.evaluate("e => e === document.activeElement")
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
