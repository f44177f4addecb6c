"""Supervision (dashboard, list, CSV without identity) and administration pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from caseflow.extensions import db
from caseflow.models import CalendarDay, Notification, Task, User

CHILD = "Bé Thử Nghiệm"


def _make_overdue(case_id: int) -> None:
    for task in db.session.scalars(db.select(Task).where(Task.case_id == case_id)):
        task.due_at = datetime.now(UTC) - timedelta(hours=1)
    db.session.commit()


def test_dashboard_counts_open_cases_and_overdue_tasks_in_the_subtree(web, open_case):
    open_case("A")
    late = open_case("B")
    open_case("C")
    _make_overdue(late["id"])
    body = web("supervisor_p").text("/supervision")
    assert 'id="kpi-open">3<' in body and 'id="kpi-overdue">1<' in body
    assert "Xã A" in body and "Xã B" in body and "Xã C" in body
    district = web("supervisor_d").text("/supervision")
    assert 'id="kpi-open">1<' in district and "Xã A" not in district


def test_case_list_filters_and_searches_by_reference(web, open_case, fire):
    first = open_case("A")
    second = fire(
        open_case("A"),
        "verify",
        "officer_a@test.vn",
        {"risk_level": "high", "serious_harm": False, "caregiver_is_abuser": False, "findings": "x"},
    )
    supervisor = web("supervisor_p")
    assert first["reference"] in supervisor.text("/cases") and second["reference"] in supervisor.text(
        "/cases"
    )
    verified = supervisor.text("/cases?state=verified")
    assert second["reference"] in verified and first["reference"] not in verified
    high = supervisor.text("/cases?risk_level=high")
    assert second["reference"] in high and first["reference"] not in high
    found = supervisor.text(f"/cases?reference={first['reference'][-6:]}")
    assert first["reference"] in found and second["reference"] not in found
    assert supervisor.get("/cases?state=bogus").status_code == 200  # a tampered filter is dropped


def test_csv_export_has_the_cases_but_never_the_childs_identity(web, open_case):
    case = open_case("A")
    resp = web("supervisor_p").get("/cases/export.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True)
    assert case["reference"] in text
    for secret in (CHILD, "2016-05-01", "Thôn 1", "Người Báo", "0900000000"):
        assert secret not in text


def test_officers_list_only_their_communes_cases(web, open_case):
    a, b = open_case("A"), open_case("B")
    body = web("officer_a").text("/cases")
    assert a["reference"] in body and b["reference"] not in body


def test_agency_staff_may_not_export(web):
    assert web("police_a").get("/cases/export.csv").status_code == 403


def test_admin_creates_units_and_agencies(web):
    admin = web("admin")
    resp = admin.post("/admin/org-units", {"code": "E", "name": "Xã E", "level": "commune", "parent": "P"})
    assert resp.status_code == 302
    resp = admin.post("/admin/org-units", {"code": "E", "name": "Again", "level": "commune", "parent": "P"})
    assert resp.status_code == 422 and 'id="code-error"' in resp.get_data(as_text=True)
    resp = admin.post(
        "/admin/agencies",
        {
            "code": "E-police",
            "name": "Công an xã E",
            "kind": "police",
            "org_unit": "E",
            "email": "police.e@agency.test",
        },
    )
    assert resp.status_code == 302
    assert "Công an xã E" in admin.text("/admin/agencies")


def test_admin_invites_deactivates_and_resets_a_user(web, world):
    admin = web("admin")
    resp = admin.post(
        "/admin/users",
        {
            "email": "new@test.vn",
            "name": "New Officer",
            "role": "officer",
            "org_unit": "A",
            "agency": "",
            "locale": "vi",
        },
    )
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "new@test.vn" in body and 'class="secret"' in body
    user = db.session.scalar(db.select(User).where(User.email == "new@test.vn"))
    officer = web("officer_b")
    target = world.users["officer_b"].id
    admin.post(f"/admin/users/{target}/deactivate", token_from="/admin/users")
    assert officer.get("/tasks").status_code == 302
    admin.post(f"/admin/users/{target}/activate", token_from="/admin/users")
    resp = admin.post(f"/admin/users/{user.id}/reset-password", token_from="/admin/users")
    assert resp.status_code == 200 and 'class="secret"' in resp.get_data(as_text=True)


def test_admin_invite_errors_are_shown_by_the_field(web):
    resp = web("admin").post(
        "/admin/users",
        {"email": "x@test.vn", "name": "X", "role": "officer", "org_unit": "", "agency": "", "locale": "vi"},
    )
    assert resp.status_code == 422 and 'id="org_unit-error"' in resp.get_data(as_text=True)


def test_admin_edits_the_holiday_calendar_by_year(web):
    admin = web("admin")
    resp = admin.post("/admin/calendar?year=2031", {"day": "2031-01-23", "kind": "holiday", "name": "Tết"})
    assert resp.status_code == 302
    assert "Tết" in admin.text("/admin/calendar?year=2031")
    resp = admin.post("/admin/calendar/2031-01-23/delete", token_from="/admin/calendar?year=2031")
    assert resp.status_code == 302
    assert db.session.get(CalendarDay, datetime(2031, 1, 23).date()) is None


def test_failed_notifications_are_listed_and_retried(web):
    row = Notification(
        dedupe_key="t:1",
        kind="task_created",
        recipient="police.a@agency.test",
        status="failed",
        attempts=5,
        last_error="550 mailbox unavailable",
    )
    db.session.add(row)
    db.session.commit()
    admin = web("admin")
    body = admin.text("/admin/notifications")
    assert "police.a@agency.test" in body and "550 mailbox unavailable" in body
    resp = admin.post(f"/admin/notifications/{row.id}/retry", token_from="/admin/notifications")
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Notification, row.id).status in ("pending", "sending", "sent")


def test_admin_pages_refuse_other_roles(web):
    supervisor = web("supervisor_p")
    for url in (
        "/admin/users",
        "/admin/org-units",
        "/admin/agencies",
        "/admin/calendar",
        "/admin/notifications",
    ):
        assert supervisor.get(url).status_code == 403, url
