"""Writing the dossier in Chromium at phone width: Mẫu 03 and the needs-meeting minutes filled
in on their pages, then the approval dossier downloaded and read back."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from caseflow.services import intake
from tests.conftest import new_case_payload
from tests.web.conftest import PHONE, shoot, sign_in

pytestmark = pytest.mark.browser


def _fits(page) -> None:
    """Nothing wider than the phone's screen: no sideways scrolling to reach a field."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _open_form(page, case_id: int, short: str) -> None:
    page.goto(f"/cases/{case_id}")
    page.click(f"#dossier-h ~ ul.forms-list a:has-text('{short}')")
    page.wait_for_url(re.compile(r"/forms/"))
    _fits(page)


def test_an_officer_writes_mau_03_and_the_minutes_on_a_phone_and_downloads_the_dossier(
    new_page, world, tmp_path
):
    case_id = intake.open_case(world.users["officer_a"], new_case_payload()).id
    page = new_page(PHONE)
    sign_in(page, "officer_a@test.vn")

    _open_form(page, case_id, "Mẫu số 03")
    assert page.locator("label[for=f-risks]").inner_text().startswith("Các nguy cơ đối với trẻ em")
    page.fill("#f-assessed_on", "2026-11-30")
    page.fill("#f-sources-0-source", "Cô giáo chủ nhiệm")
    page.fill("#f-sources-0-content", "Cháu hay nghỉ học, sợ về nhà")
    page.fill("#f-child_psychology", "Cháu lo âu, ít nói")
    page.fill("#f-conclusion", "Cần hỗ trợ tâm lý và theo dõi tại nhà")
    page.click("form.annex-form button[type=submit]")  # "risks" is required: left empty on purpose
    assert page.locator("#f-risks-error").is_visible()
    assert page.locator("#f-risks").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-sources-0-source").input_value() == "Cô giáo chủ nhiệm"  # nothing typed is lost
    page.fill("#f-risks", "Bố dượng uống rượu, đánh cháu")
    shoot(page, "form-mau-03")
    with page.expect_navigation():
        page.click("form.annex-form button[type=submit]")
    assert "Đã lưu" in page.locator(".flash.success").inner_text()

    _open_form(page, case_id, "Biên bản họp")
    page.fill("#f-held_at", "2026-11-30T14:30")
    page.fill("#f-chaired_by", "Chủ tịch UBND xã Hoàng Văn Lâm")
    page.fill("#f-participants-0-name", "Lường Thị Én")
    page.fill("#f-participants-0-body", "Trạm y tế xã")
    page.fill("#f-participants-1-name", "Vi Văn Dũng")
    page.fill("#f-participants-1-body", "Công an xã")
    page.fill("#f-child_views", "Cháu muốn ở với bà ngoại")
    page.fill("#f-family_views", "Bà ngoại đồng ý nhận chăm sóc")
    page.select_option("#f-caregiver_notification_suppressed", "true")
    page.fill("#f-needs_agreed", "Khám sức khỏe, tư vấn tâm lý")
    page.click("form.annex-form button[type=submit]")
    assert page.locator("#f-suppressed_by-error").is_visible()  # who decided must be named
    page.fill("#f-suppressed_by", "Chủ tịch UBND xã")
    page.fill("#f-suppression_reason", "Bố dượng là người bị nghi xâm hại")
    shoot(page, "form-needs-meeting")
    with page.expect_navigation():
        page.click("form.annex-form button[type=submit]")
    _fits(page)

    shoot(page, "case-dossier")
    with page.expect_download() as download:
        page.click("a:has-text('Tải hồ sơ trình phê duyệt')")
    assert download.value.suggested_filename.endswith("-dossier.pdf")
    assert "Thử" not in download.value.suggested_filename
    target = tmp_path / "dossier.pdf"
    download.value.save_as(target)
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(target).pages))
    for needed in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Cô giáo chủ nhiệm",
        "Bố dượng uống rượu, đánh cháu",
        "Lường Thị Én",
        "Cháu muốn ở với bà ngoại",
        "Chủ tịch UBND xã Hoàng Văn Lâm",
        "14:30 30/11/2026",
    ):
        assert needed in text, needed
