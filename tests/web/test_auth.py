"""Sign-in, sign-out, lock-out, idle sign-out, password change, language and CSRF."""

from __future__ import annotations

import time

from caseflow.extensions import db
from caseflow.models import User
from caseflow.services import accounts
from tests.conftest import PASSWORD
from tests.web.conftest import Browser


def _user(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(db.select(User).where(User.email == email))


def test_login_page_is_vietnamese_by_default_and_switches_to_english(client, world):
    browser = Browser(client)
    page = browser.text("/login")
    assert '<html lang="vi">' in page and "Đăng nhập" in page
    resp = browser.post("/language", {"locale": "en", "next": "/login"}, token_from="/login")
    assert resp.status_code == 302 and resp.location.endswith("/login")
    assert "Sign in" in browser.text("/login")


def test_language_choice_is_kept_on_the_user(web, world):
    officer = web("officer_a")
    officer.post("/language", {"locale": "en", "next": "/tasks"}, token_from="/tasks")
    assert _user("officer_a@test.vn").locale == "en"
    assert "My work" in officer.text("/tasks")


def test_login_opens_my_work_and_logout_needs_a_post(web):
    officer = web("officer_a")
    assert "Việc của tôi" in officer.text("/tasks")
    assert officer.get("/logout").status_code == 405
    resp = officer.post("/logout", token_from="/tasks")
    assert resp.status_code == 302
    assert officer.get("/tasks").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, world):
    browser = Browser(client)
    resp = browser.login("officer_a@test.vn", "not-the-password")
    assert resp.status_code == 401
    unknown = browser.login("nobody@test.vn", "not-the-password")
    assert "Sai thư điện tử hoặc mật khẩu" in resp.get_data(as_text=True)
    assert "Sai thư điện tử hoặc mật khẩu" in unknown.get_data(as_text=True)


def test_login_without_csrf_token_is_refused(client, world):
    resp = client.post("/login", data={"email": "officer_a@test.vn", "password": PASSWORD})
    assert resp.status_code == 400
    assert "Biểu mẫu đã hết hạn" in resp.get_data(as_text=True)


def test_session_cookie_has_no_remember_me_and_is_http_only(client, world):
    resp = Browser(client).login("officer_a@test.vn")
    cookies = resp.headers.getlist("Set-Cookie")
    assert not any(c.startswith("remember_token") for c in cookies)
    assert any(c.startswith("session=") and "HttpOnly" in c for c in cookies)


def test_requests_a_browser_makes_on_its_own_never_send_a_session_cookie_back(app, client, world):
    """The icon is fetched while a sign-in is on its way: an answer carrying a session cookie
    could arrive after the sign-in's and replace it, sending the user back to the sign-in page."""
    first = app.test_client().get("/favicon.ico")  # no cookie yet
    assert first.status_code == 200 and first.mimetype == "image/svg+xml"
    assert "Set-Cookie" not in first.headers
    Browser(client).login("officer_a@test.vn")
    for url in ("/favicon.ico", "/static/caseflow.css", "/static/favicon.svg"):
        resp = client.get(url)
        assert resp.status_code == 200 and "Set-Cookie" not in resp.headers, url
    assert client.get("/tasks").status_code == 200
    assert 'rel="icon"' in client.get("/tasks").get_data(as_text=True)


def test_an_idle_session_is_signed_out(web, app):
    officer = web("officer_a")
    with officer.client.session_transaction() as session:
        session["seen"] = int(time.time()) - int(app.config["PERMANENT_SESSION_LIFETIME"]) - 5
    resp = officer.get("/tasks")
    assert resp.status_code == 302 and "/login" in resp.location
    assert officer.get("/tasks").status_code == 302


def test_next_parameter_never_leaves_the_site(client, world):
    browser = Browser(client)
    token = browser.token("/login")
    resp = client.post(
        "/login?next=//evil.example/x",
        data={"email": "officer_a@test.vn", "password": PASSWORD, "csrf_token": token},
    )
    assert resp.status_code == 302 and "evil" not in resp.location


def test_password_change_signs_out_other_sessions_but_not_this_one(web):
    here, elsewhere = web("officer_a"), web("officer_a")
    resp = here.post(
        "/account/password", {"current_password": PASSWORD, "new_password": "a-much-longer-secret"}
    )
    assert resp.status_code == 302
    assert here.get("/tasks").status_code == 200
    assert elsewhere.get("/tasks").status_code == 302


def test_password_change_shows_errors_next_to_the_field(web):
    officer = web("officer_a")
    resp = officer.post(
        "/account/password", {"current_password": "wrong-wrong-wrong", "new_password": "a-much-longer-secret"}
    )
    assert resp.status_code == 422
    assert 'id="current_password-error"' in resp.get_data(as_text=True)


def test_deactivating_a_user_ends_their_session(web, world):
    officer = web("officer_a")
    accounts.set_active(world.users["officer_a"].id, False)
    assert officer.get("/tasks").status_code == 302
    assert Browser(officer.client).login("officer_a@test.vn").status_code == 401


def test_roles_reach_only_their_pages(web):
    assert web("police_a").get("/cases/export.csv").status_code == 403
    assert web("officer_a").get("/admin/users").status_code == 403
    assert web("admin").get("/tasks").status_code == 403
    assert web("supervisor_p").get("/cases/new").status_code == 403


def test_error_pages_use_the_layout_and_show_no_trace(web, app):
    officer = web("officer_a")
    resp = officer.get("/no/such/page")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 404 and "Không tìm thấy trang" in body and "Traceback" not in body
    assert 'class="skip"' in body


def test_api_paths_keep_json_errors(client, world):
    resp = client.get("/api/v1/nothing-here")
    assert resp.status_code == 404 and resp.is_json


def test_an_unexpected_error_shows_the_layout_and_no_trace(app, world):
    def boom():
        raise RuntimeError("Bé Thử Nghiệm secret detail")

    app.add_url_rule("/boom-for-test", view_func=boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    resp = app.test_client().get("/boom-for-test")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500 and "Đã xảy ra lỗi" in body
    assert "secret detail" not in body and "Traceback" not in body


def test_pages_are_not_cached_and_refuse_framing(web):
    resp = web("officer_a").get("/tasks")
    assert resp.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


def test_password_change_also_revokes_api_tokens(web, api):
    token_url = "/api/v1/me"
    assert api.get(token_url, "officer_a@test.vn").status_code == 200
    here = web("officer_a")
    here.post("/account/password", {"current_password": PASSWORD, "new_password": "a-much-longer-secret"})
    assert api.get(token_url, "officer_a@test.vn").status_code == 401


def test_a_nul_character_in_a_form_is_a_400_not_a_500(client, world):
    browser = Browser(client)
    token = browser.token("/login")
    resp = client.post(
        "/login", data={"email": "officer_a\x00@test.vn", "password": PASSWORD, "csrf_token": token}
    )
    assert resp.status_code == 400
