"""Sign-out and a password change end the session on the server: a copied cookie stops working.
Passwords are checked for guessability, not only length. Before: logout left a copied session
cookie working, and "xxxxxxxxxxxx" was a valid password."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.web.conftest import Browser


@pytest.fixture
def backend() -> str:
    return "sqlite"


def _signed_in(app, email: str = "officer_a@test.vn") -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(email).status_code == 302
    return browser


def _copy(app, browser: Browser) -> Browser:
    """Another browser holding a copy of the first one's session cookie."""
    thief = Browser(app.test_client())
    cookie = browser.client.get_cookie("session")
    thief.client.set_cookie("session", cookie.value)
    return thief


def test_a_copied_session_cookie_stops_working_after_sign_out(app, world):
    owner = _signed_in(app)
    thief = _copy(app, owner)
    assert thief.get("/tasks").status_code == 200  # the copy works while the session lives
    owner.post("/logout", token_from="/tasks")
    assert owner.get("/tasks").status_code == 302
    resp = thief.get("/tasks")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_a_copied_session_cookie_stops_working_after_a_password_change(app, world):
    owner = _signed_in(app)
    thief = _copy(app, owner)
    resp = owner.post(
        "/account/password", {"current_password": PASSWORD, "new_password": "violet-harbour-seventeen"}
    )
    assert resp.status_code == 302
    assert owner.get("/tasks").status_code == 200  # the browser that changed it stays signed in
    assert thief.get("/tasks").status_code == 302


def test_a_guessable_new_password_is_refused_naming_why(app, world):
    owner = _signed_in(app)
    for weak in ("xxxxxxxxxxxx", "password1234", "officer_a_test"):
        resp = owner.post("/account/password", {"current_password": PASSWORD, "new_password": weak})
        assert resp.status_code == 422, weak
        page = resp.get_data(as_text=True)
        assert "too easy to guess" in page or "dễ đoán" in page or "at least" in page or "ít nhất" in page


def test_session_protection_drops_a_cookie_replayed_from_another_browser(app, world):
    owner = _signed_in(app)
    thief = _copy(app, owner)
    resp = thief.get("/tasks", headers={"User-Agent": "SomethingElse/1.0"})
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
