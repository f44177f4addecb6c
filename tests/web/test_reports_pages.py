"""The supervisor's workspace and the report pages, on the register of tests/reports."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from caseflow.notifications.escalation import run_scan
from caseflow.web.charts import grouped_bars
from caseflow.workflow.clock import LOCAL_TZ
from tests.reports.conftest import register  # noqa: F401 - the fixture


def test_bars_are_drawn_to_scale_so_twelve_and_ten_differ():
    chart = grouped_bars(["01/26", "02/26"], [[12, 10]], ["Received"])
    twelve, ten = chart.bars
    assert round(twelve.height / ten.height, 3) == 1.2
    assert chart.ticks[-1][1] == 20  # the axis top: a round number above the largest bar


def test_dashboard_bars_keep_their_proportions(web, open_case):
    for _ in range(3):
        open_case("A")
    open_case("B")
    html = web("supervisor_p").text("/supervision")
    widths = [float(w) for w in re.findall(r'class="bar open" style="width: ([\d.]+)%"', html)]
    assert sorted(widths) == [33.3, 100.0]
    assert "max-width" not in re.search(r"\.bar \{[^}]*\}", open_css()).group(0)


def open_css() -> str:
    from tests.conftest import ROOT

    return (ROOT / "caseflow" / "static" / "caseflow.css").read_text()


def test_workspace_draws_monthly_trends_as_svg_without_script(web, register):  # noqa: F811
    html = web("supervisor_p").text("/supervision")
    # Drawn on the server: the only script on the page is the site's own progressive enhancement.
    assert "<svg" in html and html.count("<script") == html.count('src="/static/caseflow.js"') == 1
    this_month = datetime.now(UTC).strftime("%m/%Y")
    row = re.search(rf"<th scope=\"row\">{this_month}</th><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>", html)
    assert row, "the month's figures as a table"
    assert int(row.group(1)) >= 4  # cases 1, 3, 6 and 7 came in this month (6 and 7 may be last month's)


def test_late_tasks_come_latest_first_with_the_agency_level_and_who_was_told(web, register):  # noqa: F811
    run_scan()
    html = web("supervisor_p").text("/supervision")
    table = html[html.index('id="late-tasks"') :]
    order = re.findall(r">([A-Z]+-\d{4}-\d{6})</a>", table)
    refs = register.cases
    assert order[0] == refs[4]["reference"]  # 300 days late
    assert order.index(refs[8]["reference"]) < order.index(refs[6]["reference"])
    assert "chair_a@test.vn" in table and "supervisor_p@test.vn" in table  # the ladder's recipients
    assert "Trẻ Thử" not in html


def test_a_full_late_list_links_to_the_overdue_case_list_for_the_rest(web, register, monkeypatch):  # noqa: F811
    from caseflow.services import supervision

    def late_section(html: str) -> str:
        start = html.index('id="late-tasks"')
        return html[start : html.index("</section>", start)]

    run_scan()
    supervisor = web("supervisor_p")
    full = late_section(supervisor.text("/supervision"))
    assert len(re.findall(r'<tr class="is-overdue">', full)) >= 3
    assert "overdue=y" not in full  # every late task shown: nothing to link to
    # How late, in the words of every other deadline on the pages: hours under a day, then days.
    assert re.search(r">Quá hạn \d+ ngày<", full) and re.search(r">Quá hạn \d+ giờ<", full)
    monkeypatch.setattr(supervision, "LATE_TASKS_LIMIT", 2)
    cut = late_section(supervisor.text("/supervision"))
    assert len(re.findall(r'<tr class="is-overdue">', cut)) == 2
    assert re.search(r'href="[^"]*overdue=y[^"]*">[^<]+ →</a></p>', cut)


def test_the_overview_lists_the_agencies_most_late_and_links_to_every_one(web, register, monkeypatch):  # noqa: F811
    from caseflow.services import supervision

    def agency_rows(html: str) -> list[tuple[str, int]]:
        start = html.index('id="agency-table"')
        table = html[start : html.index("</table>", start)]
        return [
            (name, int(n))
            for name, n in re.findall(r'<th scope="row">([^<]+)</th>.*?class="v">(\d+)<', table, re.S)
        ]

    run_scan()
    supervisor = web("supervisor_p")
    every = agency_rows(supervisor.text("/supervision/agencies"))
    assert len(every) >= 3
    assert [n for _, n in every] == sorted((n for _, n in every), reverse=True)  # the most late first
    assert 'id="all-agencies"' not in supervisor.text("/supervision")  # all shown: nothing to link to
    monkeypatch.setattr(supervision, "OVERVIEW_AGENCIES_LIMIT", 2)
    overview = supervisor.text("/supervision")
    assert agency_rows(overview) == every[:2]
    assert re.search(
        rf'id="all-agencies"><a href="/supervision/agencies">Tất cả {len(every)} cơ quan', overview
    )
    # An officer sees the agencies of their own commune only, on the overview as on the full page.
    officer = web("officer_a")
    assert {name for name, _ in agency_rows(officer.text("/supervision/agencies"))} <= {n for n, _ in every}


def test_case_export_has_vietnamese_labels_and_commune_names(web, register):  # noqa: F811
    text = web("supervisor_p").get("/cases/export.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Mã hồ sơ", "Trạng thái", "Mức độ nguy cơ"] or rows[0][0] != "reference"
    assert all("hotline_111" not in r for r in rows) and any("Xã A" in r for r in rows)
    assert "Trẻ Thử" not in text


def test_periodic_report_page_and_its_files(web, register):  # noqa: F811
    supervisor = web("supervisor_p")
    html = supervisor.text(f"/reports/periodic?unit=P&from={register.start}&to={register.today}")
    assert "Số vụ việc tiếp nhận" in html and "Tỉnh Thử" in html
    assert re.search(r'id="ind-cases_received"><th scope="row">[^<]+</th><td>7</td>', html)
    resp = supervisor.get(f"/reports/periodic.xlsx?unit=P&from={register.start}&to={register.today}")
    assert resp.status_code == 200
    book = load_workbook(io.BytesIO(resp.data))
    assert book.worksheets[0]["A1"].value == "Báo cáo tình hình vụ việc bảo vệ trẻ em"
    commune = web("officer_a").text(f"/reports/periodic?from={register.start}&to={register.today}")
    assert "&lt;5" not in commune  # the commune's own page: exact
    assert web("officer_a").get(f"/reports/periodic?unit=B&from={register.start}").status_code == 200
    assert "Xã B" not in web("officer_a").text(f"/reports/periodic?unit=B&from={register.start}")


def test_obligations_page_shows_who_has_not_reported_and_lets_the_commune_submit(web, world):
    supervisor = web("supervisor_p")
    html = supervisor.text("/supervision/reports?year=2020")
    assert re.search(r'id="kpi-late">6<', html)  # A, B, C: the six-month and annual reports of 2020
    officer = web("officer_a")
    page = officer.text("/supervision/reports?year=2020")
    ids = re.findall(r"/supervision/reports/(\d+)/submit", page)
    resp = officer.post(
        f"/supervision/reports/{ids[0]}/submit", {"year": "2020"}, token_from="/supervision/reports?year=2020"
    )
    assert resp.status_code == 302
    assert re.search(r'id="kpi-late">5<', supervisor.text("/supervision/reports?year=2020"))


def test_adhoc_page_lists_serious_cases_by_reference(web, register):  # noqa: F811
    html = web("supervisor_p").text("/supervision/adhoc")
    for n in (1, 2, 6):
        assert register.cases[n]["reference"] in html
    assert "Xâm hại tình dục" in html and "Trẻ Thử" not in html
    assert web("officer_a").get("/supervision/adhoc").status_code == 403


@pytest.mark.browser
def test_phone_bars_keep_their_length_and_the_workspace_is_shot(new_page, open_case):
    from tests.web.conftest import PHONE, shoot, sign_in

    for _ in range(12):
        open_case("A")
    for _ in range(10):
        open_case("B")
    page = new_page(PHONE)
    sign_in(page, "supervisor_p@test.vn")
    page.goto("/supervision")
    widths = page.eval_on_selector_all(
        "span.bar.open", "bars => bars.map(b => b.getBoundingClientRect().width)"
    )
    longest, shorter = sorted(widths, reverse=True)[:2]
    assert longest > 60, "a bar on a phone is a bar, not a square"
    assert abs(shorter / longest - 10 / 12) < 0.02  # drawn to scale: 10 is 10/12 of 12
    assert page.locator("figure.trend svg rect").count() >= 3
    shoot(page, "supervision")
    page.goto("/reports/periodic")
    shoot(page, "periodic-report")


def test_the_case_list_counts_up_to_its_cap_and_says_more_beyond(web, api, open_case, monkeypatch):
    """The count stops one past the cap (a province's register is not counted on every page):
    the page says "more than", the API says the total is not exact; under the cap both are exact."""
    from caseflow.services import cases

    for _ in range(3):
        open_case("A")
    listed = api.get("/api/v1/cases?overdue=false", "supervisor_p@test.vn").get_json()
    assert (listed["total"], listed["total_exact"]) == (3, True)
    monkeypatch.setattr(cases, "COUNT_CAP", 2)
    listed = api.get("/api/v1/cases", "supervisor_p@test.vn").get_json()
    assert (listed["total"], listed["total_exact"], len(listed["items"])) == (2, False, 3)
    html = web("supervisor_p").text("/cases")
    assert "Hơn 2 hồ sơ" in html
    monkeypatch.setattr(cases, "COUNT_CAP", 3)  # exactly at the cap: still exact
    assert api.get("/api/v1/cases", "supervisor_p@test.vn").get_json()["total_exact"] is True
    assert "3 hồ sơ" in web("supervisor_p").text("/cases")


def test_monthly_trends_count_what_the_rows_say_in_every_reach(register, world):  # noqa: F811
    """The trends' two shapes (the whole register month by month, a commune's or a district's
    cases in one pass) against the rows themselves, each bucketed by its month in Vietnam time."""
    from sqlalchemy import select

    from caseflow.extensions import db
    from caseflow.models import Case, Task
    from caseflow.models.types import utcnow
    from caseflow.services import reports, supervision
    from caseflow.workflow.clock import to_local

    period = reports.Period(register.start, register.today)
    start, end, now = period.utc_start, period.utc_end, utcnow()
    cases = db.session.scalars(select(Case)).all()
    tasks = db.session.scalars(select(Task)).all()

    def expected(communes: set[int] | None) -> list[tuple[str, int, int, int]]:
        def month(moment) -> str | None:  # noqa: ANN001
            return to_local(moment).strftime("%Y-%m") if moment and start <= moment < end else None

        def reached(case: Case) -> bool:
            return communes is None or bool({case.incident_commune_id, case.residence_commune_id} & communes)

        ids = {c.id for c in cases if reached(c)}
        received = [month(c.received_at) for c in cases if c.id in ids]
        closed = [month(c.closed_at) for c in cases if c.id in ids]
        overdue = [
            month(t.due_at)
            for t in tasks
            if t.case_id in ids
            and t.status != "cancelled"
            and (t.completed_at is None or t.completed_at > t.due_at)
            and t.due_at < now
        ]
        return [
            (m, received.count(m), closed.count(m), overdue.count(m))
            for m in supervision.months_between(period.start, period.end)
        ]

    units, users = world.units, world.users
    for user, unit, communes in (
        ("supervisor_p", None, None),
        ("supervisor_p", units["D"], {units["D"].id, units["C"].id}),
        ("supervisor_p", units["A"], {units["A"].id}),
        ("officer_a", None, {units["A"].id}),
    ):
        trends = supervision.monthly_trends(users[user], period, unit)
        assert [(t.month, t.received, t.closed, t.overdue) for t in trends] == expected(communes), user
    whole = expected(None)
    assert sum(r[1] for r in whole) and sum(r[2] for r in whole) and sum(r[3] for r in whole)


def test_the_reports_page_opened_bare_is_its_form_and_counts_when_asked(web, register):  # noqa: F811
    supervisor = web("supervisor_p")
    bare = supervisor.text("/reports/periodic")
    assert 'id="report-not-asked"' in bare and 'id="indicators"' not in bare
    assert 'name="from"' in bare and "Tỉnh Thử" in bare
    asked = supervisor.text(f"/reports/periodic?from={register.start}")
    assert 'id="indicators"' in asked and 'id="report-not-asked"' not in asked


def test_the_whole_registers_past_months_are_kept_a_while_and_this_month_is_always_counted(
    register,  # noqa: F811
    world,
    open_case,
    monkeypatch,
):
    """A report entered after the fact moves a past month's count only once the kept counts are
    older than PAST_MONTHS_SECONDS; the current month's count moves at once."""
    from sqlalchemy import update

    from caseflow.extensions import db
    from caseflow.models import Case
    from caseflow.services import reports, supervision

    supervisor = world.users["supervisor_p"]
    period = reports.Period(register.start, register.today)

    def received() -> dict[str, int]:
        return {t.month: t.received for t in supervision.monthly_trends(supervisor, period)}

    before = received()
    this_month, first_month = max(before), min(before)
    case = open_case("A")  # received now: this month
    assert received()[this_month] == before[this_month] + 1
    moved = datetime.combine(register.start + timedelta(days=1), datetime.min.time(), LOCAL_TZ)
    db.session.execute(update(Case).where(Case.id == case["id"]).values(received_at=moved))
    db.session.commit()
    kept = received()
    assert kept[this_month] == before[this_month]  # counted afresh
    assert kept[first_month] == before[first_month]  # still the kept count
    monkeypatch.setattr(supervision, "PAST_MONTHS_SECONDS", 0)
    assert received()[first_month] == before[first_month] + 1
