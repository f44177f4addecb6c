"""The intake page draws the reports' statistics inputs (setting, relation, special group, the
child's ethnicity and disability) from the workflow file: Mẫu 01's choice fields that
`forms: intake: fields:` maps to a statistics column, labelled and offered as the form says."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from caseflow.extensions import db
from caseflow.models import Case, OrgUnit
from caseflow.services import reports
from caseflow.workflow import current_engine
from caseflow.workflow.clock import LOCAL_TZ
from tests.web.conftest import PHONE, serious_violations, sign_in
from tests.web.test_cases import _case_id, _intake_form
from tests.web.test_pages_checked import VISIBLE_TEXT, language_problems

STATISTICS = {
    "harm_setting": "school",
    "perpetrator_relation": "teacher",
    "special_group": "sexually_abused",
    "child-ethnicity": "hmong",
    "child-disability": "physical",
}


def _select(page: str, name: str) -> str:
    match = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert match, f"no input {name}"
    return match.group(1)


def test_the_intake_page_offers_each_declared_statistic_with_the_forms_labels(web):
    page = web("officer_a").text("/cases/new")
    assert "Nơi xảy ra xâm hại" in page and "Dân tộc của trẻ em" in page
    assert "Nhóm trẻ em có hoàn cảnh đặc biệt" in page and "Tình trạng khuyết tật của trẻ em" in page
    for name in STATISTICS:
        options = _select(page, name)
        labels = re.findall(r">([^<]*)</option>", options)
        assert labels[0] == "Chưa rõ" and len(labels) > 2, name
        assert not [label for label in labels if re.search(r"[a-z]_[a-z]", label)], (name, labels)
    assert ">Trường học</option>" in _select(page, "harm_setting")
    assert "Mông</option>" in _select(page, "child-ethnicity")


def test_the_statistics_posted_are_stored_and_counted_in_the_figures(web, app):
    resp = web("officer_a").post("/cases/new", _intake_form(**STATISTICS))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    case = db.session.get(Case, _case_id(resp.location))
    assert (case.harm_setting, case.perpetrator_relation, case.special_group) == (
        "school",
        "teacher",
        "sexually_abused",
    )
    assert (case.child.ethnicity, case.child.disability) == ("hmong", "physical")
    today = datetime.now(UTC).astimezone(LOCAL_TZ).date()
    unit = db.session.scalar(db.select(OrgUnit).where(OrgUnit.code == "A"))
    figures = reports.compute(
        current_engine().definition, unit, reports.Period(today - timedelta(days=30), today)
    )
    harmed = next(i for i in figures["indicators"] if i["code"] == "children_harmed")["breakdown"]
    assert harmed["setting"] == {"school": 1}
    assert harmed["perpetrator_relation"] == {"teacher": 1}
    assert harmed["special_group"] == {"sexually_abused": 1}
    assert harmed["ethnicity"] == {"hmong": 1} and harmed["disability"] == {"physical": 1}


def test_a_statistic_left_unknown_stores_nothing_and_a_wrong_code_is_named_beside_its_field(web):
    officer = web("officer_a")
    resp = officer.post("/cases/new", _intake_form(harm_setting="", **{"child-ethnicity": ""}))
    assert resp.status_code == 302
    case = db.session.get(Case, _case_id(resp.location))
    assert case.harm_setting is None and case.child.ethnicity is None
    resp = officer.post("/cases/new", _intake_form(harm_setting="moon", **{"child-disability": "x_y"}))
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    for field_id in ("harm_setting", "child-disability"):
        assert f'id="{field_id}-error"' in body, field_id
        assert re.search(rf'<div class="field invalid">\s*<label for="{field_id}"', body), field_id
    assert db.session.scalar(db.select(db.func.count()).select_from(Case)) == 1


def test_the_statistics_fit_a_phone_in_either_language(new_page, world):
    page = new_page(PHONE)
    sign_in(page, "officer_a@test.vn")
    problems: list[str] = []
    for locale in ("vi", "en"):
        with page.expect_navigation():
            page.click(f"button[name=locale][value={locale}]")
        page.goto("/cases/new")
        for name in STATISTICS:
            box = page.locator(f'select[name="{name}"]').bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (name, box)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        text = page.evaluate(VISIBLE_TEXT).replace("officer_a", "")  # the test user's own name
        problems += language_problems(text, locale, f"intake [{locale}]")
        problems += serious_violations(page, f"intake [{locale}, 375px]")
    assert page.locator('label[for="harm_setting"]').inner_text() == "Where the harm took place"
    assert not problems, "\n".join(problems)
