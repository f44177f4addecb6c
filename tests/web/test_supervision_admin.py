"""Supervision (dashboard, list, CSV without identity) and administration pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from caseflow.extensions import db
from caseflow.models import AdminEvent, CalendarDay, Notification, Task, User

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


def _many_users(world, n: int) -> None:
    """`n` more accounts (a hash copied, not computed: hashing each would take the test's time)."""
    hashed = world.users["admin"].password_hash
    for i in range(n):
        db.session.add(
            User(
                email=f"bulk-{i:02d}@test.vn",
                name=f"Bulk {i:02d}",
                role="officer",
                org_unit=world.units["B"],
                password_hash=hashed,
            )
        )
    db.session.commit()


def test_admin_users_are_listed_a_page_at_a_time(web, world):
    _many_users(world, 40)  # 59 accounts with the world's: two pages of 50, by email
    admin = web("admin")
    first, second = admin.text("/admin/users"), admin.text("/admin/users?page=2")
    assert "bulk-00@test.vn" in first and "supervisor_p@test.vn" not in first
    assert "supervisor_p@test.vn" in second and "bulk-00@test.vn" not in second
    assert first.count("/reset-password") == 50 and second.count("/reset-password") == 9
    assert "page=2" in first
    assert "59 tài khoản" in first  # the count of what matches, in Vietnamese by default
    assert admin.get("/admin/users?page=99").status_code == 200  # past the end: an empty page


def test_admin_searches_users_by_name_or_email_and_by_unit(web, world):
    _many_users(world, 3)
    admin = web("admin")
    found = admin.text("/admin/users?q=Bulk+01")
    assert "bulk-01@test.vn" in found and "bulk-02@test.vn" not in found and "officer_a@test.vn" not in found
    in_c = admin.text("/admin/users?unit=C")
    assert "officer_c@test.vn" in in_c and "police_c@test.vn" in in_c and "officer_a@test.vn" not in in_c
    both = admin.text("/admin/users?q=officer&unit=B")
    assert "officer_b@test.vn" in both and "officer_c@test.vn" not in both and "bulk-00@test.vn" not in both
    # A tampered unit is dropped, not an error page; a wildcard is searched for as itself.
    assert "officer_a@test.vn" in admin.text("/admin/users?unit=nowhere")
    assert "officer_a@test.vn" not in admin.text("/admin/users?q=%25")


def test_admin_actions_keep_the_search_and_stay_on_the_trail(web, world):
    admin = web("admin")
    target = world.users["officer_b"]
    resp = admin.post(
        f"/admin/users/{target.id}/deactivate?q=officer&unit=B&page=1",
        token_from="/admin/users?q=officer&unit=B",
    )
    assert resp.status_code == 302 and "q=officer" in resp.location and "unit=B" in resp.location
    event = db.session.scalars(
        db.select(AdminEvent)
        .where(AdminEvent.target == "user:officer_b@test.vn")
        .order_by(AdminEvent.id.desc())
    ).first()
    assert event is not None and event.data.get("active") is False
    resp = admin.post(f"/admin/users/{target.id}/reset-password?q=officer", token_from="/admin/users")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'class="secret"' in body and "officer_b@test.vn" in body


def test_admin_invites_agency_staff_by_the_agency_code(web):
    admin = web("admin")
    user = {
        "email": "cong.an@test.vn",
        "name": "Cán bộ Công an",
        "role": "agency_staff",
        "org_unit": "",
        "locale": "vi",
    }
    resp = admin.post("/admin/users", user | {"agency": "no-such-agency"})
    assert resp.status_code == 422 and 'id="agency-error"' in resp.get_data(as_text=True)
    assert admin.post("/admin/users", user | {"agency": "A-police"}).status_code == 200
    created = db.session.scalar(db.select(User).where(User.email == "cong.an@test.vn"))
    assert created.agency.code == "A-police"
    # Typed, not picked from a select of every agency of the province.
    assert re.search(r'<input[^>]*id="agency"', admin.text("/admin/users"))


def test_admin_agencies_are_searched_and_paged(web):
    admin = web("admin")
    hits = admin.text("/admin/agencies?q=police")
    assert "A-police" in hits and "B-police" in hits and "A-health" not in hits
    in_b = admin.text("/admin/agencies?q=police&unit=B")
    assert "B-police" in in_b and "A-police" not in in_b
    by_email = admin.text("/admin/agencies?q=111%40agency")
    assert "P-hotline" in by_email and "A-police" not in by_email
    assert "Không có cơ quan nào phù hợp." in admin.text("/admin/agencies?q=zzz")


def test_csv_export_streams_vietnamese_rows_and_goes_on_the_admin_trail(web, open_case):
    case = open_case("A")
    resp = web("supervisor_p").client.get("/cases/export.csv?risk_level=&state=", buffered=False)
    assert resp.is_streamed
    chunks = list(resp.response)
    resp.close()
    text = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks).decode("utf-8-sig")
    header, *rows = text.splitlines()
    assert header.startswith("Mã hồ sơ,") and len(chunks) >= 2  # the header leaves before any row is read
    row = next(r for r in rows if r.startswith(case["reference"]))
    assert "Xã A" in row and re.search(r",\d\d/\d\d/\d{4} \d\d:\d\d,", row)  # local time, as pages show it
    event = db.session.scalars(db.select(AdminEvent).where(AdminEvent.action == "cases.exported")).one()
    assert event.target == "cases" and event.data == {}  # no filter given: the whole list in reach
    web("supervisor_p").get("/cases/export.csv?risk_level=high").close()
    filtered = db.session.scalars(
        db.select(AdminEvent).where(AdminEvent.action == "cases.exported").order_by(AdminEvent.id.desc())
    ).first()
    assert filtered.data == {"risk_level": "high"}
