"""The periodic report checked indicator by indicator against hand counts of the register
(tests/reports/conftest.py), for a commune, the historic district and the province."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook


def _figures(body: dict) -> dict:
    return {i["code"]: i for i in body["indicators"]}


def _report(api, register, as_: str, unit: str, **extra) -> dict:
    resp = api.get("/api/v1/reports/periodic", as_, query_string=register.query(unit, **extra))
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


class TestExactFigures:
    """With the threshold at 1 nothing is suppressed, so every figure can be compared."""

    @pytest.fixture
    def app_config(self):
        return {"REPORT_MIN_COUNT": 1}

    def test_commune_figures_match_the_hand_count(self, api, register):
        body = _report(api, register, "officer_a@test.vn", "A")
        assert body["org_unit"] == "A" and body["from"] == register.start.isoformat()
        assert "suppressed" not in body
        f = _figures(body)
        assert f["cases_received"]["value"] == 4  # 1, 2, 3, 8 (4 is before the period)
        assert f["cases_received"]["breakdown"]["harm_type"] == {
            "violence": 3,
            "sexual_abuse": 1,
            "neglect": 1,
        }
        assert f["cases_dismissed"]["value"] == 1
        assert f["cases_closed"]["value"] == 0
        harmed = f["children_harmed"]
        assert harmed["value"] == 3  # the dismissed report is no child harmed
        assert harmed["breakdown"]["sex"] == {"female": 1, "male": 2, "unknown": 0}
        assert harmed["breakdown"]["age_group"] == {"0-5": 1, "6-10": 2, "11-15": 0}
        assert harmed["breakdown"]["harm_type"] == {"violence": 3, "sexual_abuse": 1}
        assert harmed["breakdown"]["setting"] == {"family": 2, "school": 1}
        assert harmed["breakdown"]["perpetrator_relation"] == {"teacher": 1, "not_recorded": 2}
        assert f["emergency_on_time"]["value"] == 2 and f["emergency_on_time"]["total"] == 2
        assert f["plans_on_time"]["breakdown"]["timeliness"] == {
            "on_time": 0,
            "late": 0,
            "open_overdue": 0,
            "open": 2,
        }
        # Open work late at the end of the period, whenever its case came in: case 4's
        # verification; and case 8 happened in C, but the child lives in A, so A counts it too.
        assert f["overdue_tasks"]["breakdown"]["agency"] == {
            "A-commune_committee": 1,
            "C-commune_committee": 1,
        }
        assert f["overdue_tasks"]["value"] == 2

    def test_other_commune_counts_its_closure_services_ethnicity_and_disability(self, api, register):
        f = _figures(_report(api, register, "chair_b@test.vn", "B"))
        assert f["cases_received"]["value"] == 2
        assert f["cases_closed"]["value"] == 1
        assert f["cases_closed"]["breakdown"]["closure_outcome"] == {"safe_at_home": 1}
        assert f["services_given"]["value"] == 1
        assert f["services_given"]["breakdown"]["service"] == {"medical_care": 1, "psychological_therapy": 1}
        harmed = f["children_harmed"]["breakdown"]
        assert harmed["sex"] == {"female": 1, "male": 1, "unknown": 0}
        assert harmed["age_group"] == {"0-5": 0, "6-10": 1, "11-15": 1}
        assert harmed["ethnicity"] == {"hmong": 1, "not_recorded": 1}
        assert harmed["disability"] == {"physical": 1, "not_recorded": 1}
        assert harmed["setting"] == {"online": 1, "not_recorded": 1}
        assert f["emergency_on_time"]["breakdown"]["timeliness"] == {
            "on_time": 0,
            "late": 1,
            "open_overdue": 1,
            "open": 0,
        }
        assert f["plans_on_time"]["value"] == 1 and f["plans_on_time"]["total"] == 2
        assert f["overdue_tasks"]["breakdown"]["agency"] == {"B-health": 1, "B-commune_committee": 1}

    def test_historic_district_counts_its_communes_cases(self, api, register):
        f = _figures(_report(api, register, "supervisor_d@test.vn", "D"))
        assert f["cases_received"]["value"] == 2  # 7 and 8
        assert f["children_harmed"]["breakdown"]["sex"] == {"female": 1, "male": 1, "unknown": 0}
        assert f["children_harmed"]["breakdown"]["age_group"] == {"0-5": 1, "6-10": 1, "11-15": 0}
        assert f["children_harmed"]["breakdown"]["harm_type"] == {"abandonment": 1, "violence": 1}
        assert f["children_harmed"]["breakdown"]["setting"] == {"family": 2}
        assert f["overdue_tasks"]["breakdown"]["agency"] == {"C-commune_committee": 2}
        assert f["emergency_on_time"]["total"] == 0

    def test_province_counts_every_case_once(self, api, register):
        f = _figures(_report(api, register, "supervisor_p@test.vn", "P"))
        assert f["cases_received"]["value"] == 7
        assert f["cases_dismissed"]["value"] == 1
        assert f["cases_closed"]["value"] == 1
        harmed = f["children_harmed"]
        assert harmed["value"] == 6
        assert harmed["breakdown"]["sex"] == {"female": 3, "male": 3, "unknown": 0}
        assert harmed["breakdown"]["age_group"] == {"0-5": 2, "6-10": 3, "11-15": 1}
        assert harmed["breakdown"]["harm_type"] == {
            "violence": 4,
            "sexual_abuse": 1,
            "trafficking": 1,
            "abandonment": 1,
        }
        assert harmed["breakdown"]["setting"] == {"family": 3, "school": 1, "online": 1, "not_recorded": 1}
        assert f["emergency_on_time"]["value"] == 2 and f["emergency_on_time"]["total"] == 4
        assert f["emergency_on_time"]["breakdown"]["timeliness"]["late"] == 1
        assert f["plans_on_time"]["value"] == 1 and f["plans_on_time"]["total"] == 4  # 1, 2, 5, 6
        assert f["overdue_tasks"]["value"] == 5
        assert f["overdue_tasks"]["breakdown"]["agency"] == {
            "A-commune_committee": 1,
            "B-health": 1,
            "B-commune_committee": 1,
            "C-commune_committee": 2,
        }
        # Verified: 1 and 3 (dismissed) at once, 6 after 13 h, 5 after 50 days, 2 after 100 days.
        hours = f["time_to_verify_hours"]["value"]
        assert (13 + 50 * 24 + 100 * 24) / 5 - 1 < hours < (13 + 50 * 24 + 100 * 24) / 5 + 1

    def test_a_case_with_no_child_recorded_counts_as_not_recorded_in_the_childs_breakdowns(
        self, app, api, register
    ):
        """The children are joined to the cohort without an outer join: a case whose child row is
        missing (an import of older paper records, say) must still count once, as not recorded."""
        from sqlalchemy import text

        from caseflow.extensions import db

        with app.app_context():
            db.session.execute(
                text("DELETE FROM children WHERE case_id = :id"), {"id": register.cases[1]["id"]}
            )
            db.session.commit()
        harmed = _figures(_report(api, register, "supervisor_p@test.vn", "P"))["children_harmed"]
        assert harmed["value"] == 6
        for dimension in ("sex", "age_group", "ethnicity", "disability"):
            assert harmed["breakdown"][dimension]["not_recorded"] >= 1, dimension
        assert sum(harmed["breakdown"]["sex"].values()) == 6
        assert harmed["breakdown"]["sex"]["not_recorded"] == 1
        assert sum(harmed["breakdown"]["age_group"].values()) == 6

    def test_overdue_tasks_are_counted_as_they_stood_at_the_end_of_the_period(self, api, register):
        to = register.today - timedelta(days=60)
        f = _figures(_report(api, register, "supervisor_p@test.vn", "P", to=to.isoformat()))
        assert f["cases_received"]["value"] == 2  # 2 and 8, received 100 days ago
        # Verifications open and late 60 days ago: cases 2 (done since), 4 and 8.
        assert f["overdue_tasks"]["breakdown"]["agency"] == {
            "A-commune_committee": 2,
            "C-commune_committee": 1,
        }


def test_commune_staff_see_their_own_figures_exactly(api, register):
    body = _report(api, register, "officer_a@test.vn", "A")
    assert "suppressed" not in body
    assert _figures(body)["cases_dismissed"]["value"] == 1


def test_small_counts_are_suppressed_once_the_report_leaves_the_commune(api, register):
    body = _report(api, register, "supervisor_p@test.vn", "A")
    assert body["suppressed"] is True and body["min_count"] == 5
    f = _figures(body)
    assert f["cases_received"]["value"] == "<5"
    assert f["children_harmed"]["breakdown"]["sex"] == {"female": "<5", "male": "<5", "unknown": 0}
    assert f["cases_closed"]["value"] == 0  # zero names nobody
    province = _figures(_report(api, register, "supervisor_p@test.vn", "P"))
    assert province["cases_received"]["value"] == 7  # at or above the threshold: shown


def test_commune_file_exports_are_suppressed_even_for_its_own_officer(api, register):
    resp = api.get(
        "/api/v1/reports/periodic", "officer_a@test.vn", query_string=register.query("A", format="csv")
    )
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert ["Số vụ việc tiếp nhận", "Tổng số", "", "<5"] in rows
    assert ["Trẻ em bị xâm hại (trừ tin báo không có cơ sở)", "Giới tính", "Nữ", "<5"] in rows


def test_csv_has_one_row_per_indicator_and_breakdown_value_in_vietnamese_without_identity(api, register):
    resp = api.get(
        "/api/v1/reports/periodic", "supervisor_p@test.vn", query_string=register.query("P", format="csv")
    )
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert "Trẻ Thử" not in resp.get_data(as_text=True) and "Thôn 2" not in resp.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1] == ["Chỉ tiêu", "Phân tổ", "Giá trị phân tổ", "Số liệu"]
    assert ["Số vụ việc tiếp nhận", "Tổng số", "", "7"] in rows
    assert ["Trẻ em bị xâm hại (trừ tin báo không có cơ sở)", "Nhóm tuổi", "6-10 tuổi", "<5"] in rows
    assert [
        "Trẻ em bị xâm hại (trừ tin báo không có cơ sở)",
        "Môi trường bị xâm hại",
        "Gia đình",
        "<5",
    ] in rows
    # Labels, never codes (the test world's agencies are named after their kind: left out).
    assert not any("_" in cell for row in rows if row[1:2] != ["Cơ quan"] for cell in row)


def test_xlsx_read_back_has_a_cover_a_sheet_per_breakdown_and_a_chart(api, register):
    resp = api.get(
        "/api/v1/reports/periodic", "supervisor_p@test.vn", query_string=register.query("P", format="xlsx")
    )
    assert resp.status_code == 200
    assert 'filename="bao-cao-P-' in resp.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(resp.data))
    cover = book.worksheets[0]
    cells = {row[0]: row[1] for row in cover.iter_rows(values_only=True)}
    assert cells["Đơn vị"].startswith("Tỉnh Thử")
    assert cells["Người lập"].startswith("supervisor_p")
    assert cells["Từ ngày"] == register.start.strftime("%d/%m/%Y")
    assert "Giới tính" in book.sheetnames and "Nhóm tuổi" in book.sheetnames
    ages = {r[0]: r[1] for r in book["Nhóm tuổi"].iter_rows(min_row=3, values_only=True)}
    assert ages == {"0-5 tuổi": "<5", "6-10 tuổi": "<5", "11-15 tuổi": "<5"}
    indicators = {r[0]: r[1] for r in book["Chỉ tiêu"].iter_rows(min_row=2, values_only=True)}
    assert indicators["Số vụ việc tiếp nhận"] == 7
    assert book["Nhóm tuổi"]._charts, "a chart of the children by age group"
    text = " ".join(
        str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row if c
    )
    assert "Trẻ Thử" not in text and "Thôn 2" not in text


def test_report_outside_the_callers_reach_is_not_found(api, register):
    assert (
        api.get("/api/v1/reports/periodic", "officer_a@test.vn", query_string=register.query("B")).status_code
        == 404
    )
    assert (
        api.get(
            "/api/v1/reports/periodic", "supervisor_d@test.vn", query_string=register.query("A")
        ).status_code
        == 404
    )
    assert (
        api.get(
            "/api/v1/reports/periodic", "supervisor_d@test.vn", query_string=register.query("ZZ")
        ).status_code
        == 404
    )
    assert (
        api.get("/api/v1/reports/periodic", "police_a@test.vn", query_string=register.query("A")).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": ""}, "to"),
        ({"from": "2026-05-01", "to": "2026-04-01"}, "to"),
        ({"format": "pdf"}, "format"),
    ],
)
def test_bad_report_parameters_are_a_422_naming_the_field(api, world, params, field):
    query = {"org_unit": "A", "from": "2026-01-01", "to": "2026-06-30", **params}
    resp = api.get("/api/v1/reports/periodic", "officer_a@test.vn", query_string=query)
    assert resp.status_code == 422
    assert field in resp.get_json()["error"]["fields"]


def test_the_workflow_serves_the_choice_lists_and_intake_refuses_a_code_outside_them(api, world):
    lists = api.get("/api/v1/workflow", "officer_a@test.vn").get_json()["choice_lists"]
    assert len(lists["special_circumstance_groups"]) == 15  # the 14 groups of Art. 10, and none
    assert {"code": "hmong", "label": {"vi": "H'Mông", "en": "Hmong"}} in lists["ethnicities"]
    assert [o["code"] for o in lists["harm_settings"]] == [
        "family",
        "school",
        "community",
        "online",
        "workplace",
        "other",
    ]
    from tests.conftest import new_case_payload

    payload = new_case_payload("A", harm_setting="moon")
    payload["child"]["ethnicity"] = "martian"
    resp = api.post("/api/v1/cases", "officer_a@test.vn", json=payload)
    assert resp.status_code == 422
    assert set(resp.get_json()["error"]["fields"]) == {"harm_setting", "child.ethnicity"}


def test_a_case_closed_with_no_outcome_recorded_counts_as_closed_and_its_child_as_harmed(
    api, world, open_case, fire
):
    """The outcome is optional on close: such a case is neither dismissed nor lost from the
    figures (a NULL outcome once made "not dismissed" unknown, so it counted nowhere)."""
    from datetime import UTC, datetime

    from caseflow.workflow.clock import LOCAL_TZ
    from tests.reports.conftest import VERIFY_MILD

    c = open_case("A", harm_types=["violence"], harm_setting="family")
    c = fire(c, "verify", "officer_a@test.vn", VERIFY_MILD)
    due = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    plan = {"plan": "Support", "measures": [{"agency": "A-health", "description": "Care", "due_at": due}]}
    c = fire(c, "submit_plan", "officer_a@test.vn", plan)
    c = fire(c, "approve_plan", "chair_a@test.vn")
    measure = next(t for t in c["tasks"] if t["kind"] == "measure" and t["status"] == "open")
    done = api.post(f"/api/v1/tasks/{measure['id']}/complete", "health_a@test.vn", json={"outcome": "done"})
    assert done.status_code == 200, done.get_json()
    c = api.get(f"/api/v1/cases/{c['id']}", "officer_a@test.vn").get_json()
    c = fire(c, "start_follow_up", "officer_a@test.vn")
    c = fire(c, "close", "chair_a@test.vn", {"no_longer_at_risk": True, "stable": True, "summary": "Safe."})
    assert c["state"] == "closed"
    today = datetime.now(LOCAL_TZ).date()  # the report's days are Vietnam's, not UTC's
    query = {"org_unit": "A", "from": (today - timedelta(days=30)).isoformat(), "to": today.isoformat()}
    body = api.get("/api/v1/reports/periodic", "officer_a@test.vn", query_string=query).get_json()
    f = _figures(body)
    assert f["cases_received"]["value"] == 1
    assert f["cases_dismissed"]["value"] == 0
    assert f["cases_closed"]["value"] == 1
    assert f["children_harmed"]["value"] == 1
