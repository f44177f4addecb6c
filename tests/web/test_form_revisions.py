"""A form's revisions on a page: who saved each one, when and which fields it changed (labelled
from the declaration), identity only for the bodies handling the case; an older revision opens
read only. Vietnamese by default, and at phone width."""

from __future__ import annotations

import re

import pytest

from caseflow.extensions import db
from caseflow.models import Case
from caseflow.services import forms as form_service
from caseflow.services import intake
from caseflow.workflow import current_engine
from tests.conftest import new_case_payload
from tests.web.conftest import PHONE, shoot, sign_in
from tests.web.test_dossier import MEETING

ADDRESS = "Bản Nậm Ỷ, nhà thứ ba"


def _case(world) -> int:
    return intake.open_case(world.users["officer_a"], new_case_payload()).id


def _minutes_twice(web, case_id: int):
    """The officer writes the minutes, then the chair corrects the child's views."""
    officer, chair = web("officer_a"), web("chair_a")
    url = f"/cases/{case_id}/forms/needs_meeting"
    assert officer.post(url, {**MEETING, "revision": "0"}, token_from=url).status_code == 302
    changed = {**MEETING, "f-child_views": "Cháu muốn ở với cô ruột", "revision": "1"}
    assert chair.post(url, changed, token_from=url).status_code == 302
    return officer


def _items(page: str) -> list[str]:
    return re.findall(r'<li id="revision-(\d+)">(.*?)</li>\s*(?=<li id="revision-|</ol>)', page, re.S)


def test_the_form_page_links_its_revisions_listed_newest_first_with_who_when_and_what(web, world):
    case_id = _case(world)
    officer = _minutes_twice(web, case_id)
    form_page = officer.text(f"/cases/{case_id}/forms/needs_meeting")
    assert f'href="/cases/{case_id}/forms/needs_meeting/revisions"' in form_page
    assert "Lịch sử thay đổi (2)" in form_page
    page = officer.text(f"/cases/{case_id}/forms/needs_meeting/revisions")
    items = dict(_items(page))
    assert list(items) == ["2", "1"]
    assert "chair_a" in items["2"] and "Mới nhất" in items["2"]
    assert "Đã thay đổi:" in items["2"] and "<li>Ý kiến của trẻ em</li>" in items["2"]
    assert "Thành phần tham dự" not in items["2"]  # unchanged fields are not listed
    assert "officer_a" in items["1"] and "Ghi lần đầu gồm:" in items["1"]
    assert "<li>Thành phần tham dự</li>" in items["1"]
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", items["1"])  # when, in Vietnam time
    words = re.sub(r'="[^"]*"', "", page)  # what a person reads, without links and ids
    assert "child_views" not in words and "needs_meeting" not in words


def test_an_older_revision_opens_read_only_with_its_own_values(web, world):
    case_id = _case(world)
    officer = _minutes_twice(web, case_id)
    page = officer.text(f"/cases/{case_id}/forms/needs_meeting/revisions/1")
    assert "Cháu muốn ở với bà ngoại" in page and "Cháu muốn ở với cô ruột" not in page
    assert "Bạn đang xem lần ghi thứ 1 trên 2" in page
    assert (
        '<fieldset class="form-body" disabled>' in page and 'type="submit"' not in page.split("annex-form")[1]
    )
    assert 'name="f-participants-1-name"' not in page  # no empty line to fill on a read-only page
    latest = officer.text(f"/cases/{case_id}/forms/needs_meeting/revisions/2")
    assert "Cháu muốn ở với cô ruột" in latest and "Bạn đang xem" not in latest
    for bad in ("3", "0", "99999999999"):
        assert officer.get(f"/cases/{case_id}/forms/needs_meeting/revisions/{bad}").status_code == 404, bad
    assert officer.get(f"/cases/{case_id}/forms/mau_99/revisions").status_code == 404


def test_identity_changes_are_named_only_to_those_who_may_see_identity(web, world, app):
    case_id = _case(world)
    case = db.session.get(Case, case_id)
    record = form_service.latest_records(case)["mau_01"]
    data = {**form_service.values_of(record, True), "incident_address": ADDRESS}
    form_service.save(
        current_engine(), world.users["officer_a"], case, "mau_01", {"data": data, "revision": 1}
    )
    db.session.commit()
    officer = dict(_items(web("officer_a").text(f"/cases/{case_id}/forms/mau_01/revisions")))
    assert "<li>Địa chỉ nơi xảy ra sự việc</li>" in officer["2"]
    assert "Ghi từ thông báo khi tiếp nhận" in officer["1"]
    supervisor = web("supervisor_p")
    items = dict(_items(supervisor.text(f"/cases/{case_id}/forms/mau_01/revisions")))
    assert "Địa chỉ nơi xảy ra sự việc" not in items["2"]
    assert "Thông tin được bảo vệ, không hiển thị với vai trò của bạn" in items["2"]
    old = supervisor.text(f"/cases/{case_id}/forms/mau_01/revisions/1")
    assert "Bé Thử Nghiệm" not in old and "Thông tin được bảo vệ" in old
    assert web("police_a").get(f"/cases/{case_id}/forms/mau_01/revisions").status_code == 403


def test_the_revisions_page_speaks_the_users_language(web, world):
    case_id = _case(world)
    officer = _minutes_twice(web, case_id)
    officer.post("/language", {"locale": "en"}, token_from=f"/cases/{case_id}")
    page = officer.text(f"/cases/{case_id}/forms/needs_meeting/revisions")
    assert "Changed:" in page and "The child&#39;s views" in page and "Latest" in page


@pytest.mark.browser
def test_the_revisions_fit_a_phone_and_open_an_older_one(web, world, new_page):
    case_id = _case(world)
    _minutes_twice(web, case_id)
    page = new_page(PHONE)
    sign_in(page, "officer_a@test.vn")
    page.goto(f"/cases/{case_id}/forms/needs_meeting")
    page.click("a:has-text('Lịch sử thay đổi')")
    page.wait_for_url(re.compile(r"/revisions$"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shoot(page, "form-revisions")
    page.click("#revision-1 a:has-text('Mở lần ghi này')")
    page.wait_for_url(re.compile(r"/revisions/1$"))
    assert page.locator("#f-child_views").input_value() == "Cháu muốn ở với bà ngoại"
    assert page.locator("#f-child_views").is_disabled()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
