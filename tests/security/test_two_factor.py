"""An optional authenticator app (TOTP) for chairs, supervisors and admins, required by a setting."""

from __future__ import annotations

import re

import pyotp
import pytest

from caseflow.extensions import db
from caseflow.models import User
from tests.conftest import PASSWORD
from tests.web.conftest import Browser, csrf_token


@pytest.fixture
def backend() -> str:
    return "sqlite"


def _enroll(app, email: str) -> str:
    browser = Browser(app.test_client())
    assert browser.login(email).status_code == 302
    page = browser.text("/account/two-factor")
    secret = re.search(r'name="secret"[^>]*value="([A-Z2-7]+)"', page).group(1)
    wrong = browser.client.post(
        "/account/two-factor", data={"secret": secret, "code": "000000", "csrf_token": csrf_token(page)}
    )
    assert wrong.status_code == 422
    code = pyotp.TOTP(secret).now()
    done = browser.client.post(
        "/account/two-factor", data={"secret": secret, "code": code, "csrf_token": csrf_token(page)}
    )
    assert done.status_code == 302
    return secret


def test_a_chair_with_an_app_needs_its_code_on_the_page_and_for_a_token(app, client, world):
    secret = _enroll(app, "chair_a@test.vn")
    assert db.session.scalar(db.select(User.totp_secret).where(User.email == "chair_a@test.vn")) == secret
    stored = db.session.execute(
        db.text("SELECT totp_secret FROM users WHERE email = 'chair_a@test.vn'")
    ).scalar()
    assert stored.startswith("cf1$")  # encrypted at rest
    browser = Browser(app.test_client())
    assert browser.login("chair_a@test.vn").status_code == 401  # the password alone is not enough
    page = browser.client.get("/login").get_data(as_text=True)
    ok = browser.client.post(
        "/login",
        data={
            "email": "chair_a@test.vn",
            "password": PASSWORD,
            "code": pyotp.TOTP(secret).now(),
            "csrf_token": csrf_token(page),
        },
    )
    assert ok.status_code == 302
    body = {"email": "chair_a@test.vn", "password": PASSWORD}
    assert client.post("/api/v1/auth/token", json=body).status_code == 401
    assert (
        client.post("/api/v1/auth/token", json={**body, "totp": pyotp.TOTP(secret).now()}).status_code == 200
    )


def test_officers_have_no_second_factor_page(app, world):
    browser = Browser(app.test_client())
    browser.login("officer_a@test.vn")
    assert browser.get("/account/two-factor").status_code == 404


@pytest.fixture
def app_config() -> dict:
    return {"CASEFLOW_TOTP_REQUIRED_ROLES": "supervisor"}


def test_a_required_second_factor_is_set_up_before_any_other_page(app, world):
    browser = Browser(app.test_client())
    assert browser.login("supervisor_p@test.vn").status_code == 302
    resp = browser.get("/supervision")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/account/two-factor")
    chair = Browser(app.test_client())
    chair.login("chair_a@test.vn")
    assert chair.get("/tasks").status_code == 200  # chairs are not required by this setting


def test_an_admin_reset_also_removes_the_app_and_is_on_the_admin_trail(app, world):
    from caseflow.models import AdminEvent

    _enroll(app, "chair_b@test.vn")
    chair_id = world.users["chair_b"].id
    admin = Browser(app.test_client())
    assert admin.login("admin@test.vn").status_code == 302
    resp = admin.post(f"/admin/users/{chair_id}/reset-password", token_from="/admin/users")
    assert resp.status_code in (200, 302)
    db.session.expire_all()
    assert db.session.get(User, chair_id).totp_secret is None
    event = db.session.scalar(
        db.select(AdminEvent)
        .where(AdminEvent.target == "user:chair_b@test.vn")
        .order_by(AdminEvent.seq.desc())
    )
    assert event.actor_label == "admin@test.vn" and event.data["totp_secret"] == "(changed)"
