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
    # The recovery codes, in this answer only.
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    return secret


def _enroll_with_codes(app, email: str) -> tuple[str, list[str], Browser]:
    browser = Browser(app.test_client())
    assert browser.login(email).status_code == 302
    page = browser.text("/account/two-factor")
    secret = re.search(r'name="secret"[^>]*value="([A-Z2-7]+)"', page).group(1)
    done = browser.client.post(
        "/account/two-factor",
        data={"secret": secret, "code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(page)},
    )
    assert done.status_code == 200
    return secret, _codes(done.get_data(as_text=True)), browser


def _codes(page: str) -> list[str]:
    return re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code>", page)


def _sign_in(app, email: str, code: str, address: str = "10.6.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    page = client.get("/login").get_data(as_text=True)
    data = {"email": email, "password": PASSWORD, "code": code, "csrf_token": csrf_token(page)}
    return client.post("/login", data=data)


def _token(client, email: str, code: str):
    return client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD, "totp": code})


def _admin_events(action: str, target: str) -> list:
    from caseflow.models import AdminEvent

    db.session.expire_all()
    return list(
        db.session.scalars(
            db.select(AdminEvent)
            .where(AdminEvent.action == action, AdminEvent.target == target)
            .order_by(AdminEvent.seq)
        )
    )


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


def test_setting_up_the_app_shows_ten_recovery_codes_once_in_vietnamese_and_keeps_only_hashes(app, world):
    secret, codes, browser = _enroll_with_codes(app, "chair_a@test.vn")
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.session.execute(
        db.text("SELECT totp_recovery FROM users WHERE email = 'chair_a@test.vn'")
    ).scalar()
    assert len(stored.split()) == 10
    for code in codes:  # neither the code nor its letters without dashes is in the database
        assert code not in stored and code.replace("-", "") not in stored
    again = browser.text("/account/two-factor/recovery-codes")
    assert _codes(again) == []  # shown once: the page now only counts them
    assert "Còn lại 10 trên 10 mã khôi phục." in again
    assert [e.data for e in _admin_events("user.recovery_codes_issued", "user:chair_a@test.vn")] == [
        {"count": 10}
    ]


def test_a_recovery_code_signs_in_once_on_the_page_and_once_for_a_token(app, client, world):
    _secret, codes, _ = _enroll_with_codes(app, "chair_a@test.vn")
    assert _sign_in(app, "chair_a@test.vn", codes[0].upper().replace("-", " ")).status_code == 302
    assert _sign_in(app, "chair_a@test.vn", codes[0]).status_code == 401  # spent
    assert _token(client, "chair_a@test.vn", codes[1]).status_code == 200
    assert _token(client, "chair_a@test.vn", codes[1]).status_code == 401  # spent
    # A recovery code is no way around the password.
    wrong = client.post(
        "/api/v1/auth/token", json={"email": "chair_a@test.vn", "password": "wrong" * 4, "totp": codes[2]}
    )
    assert wrong.status_code == 401
    assert _token(client, "chair_a@test.vn", codes[2]).status_code == 200  # still unspent
    used = _admin_events("user.recovery_code_used", "user:chair_a@test.vn")
    assert [e.data["left"] for e in used] == [9, 8, 7]
    assert {e.actor_label for e in used} == {"chair_a@test.vn"}
    assert audit_intact(app)


def audit_intact(app) -> bool:
    from caseflow.services.audit_chain import verify_admin

    return verify_admin(db.session) is None


def test_wrong_recovery_codes_are_slowed_down_like_wrong_app_codes(app, world):
    _secret, codes, _ = _enroll_with_codes(app, "chair_b@test.vn")
    for guess in ("aaaa-bbbb-cccc-dddd", "aaaa-bbbb-cccc-ddde", "aaaa-bbbb-cccc-dddf"):
        assert _sign_in(app, "chair_b@test.vn", guess, "10.6.6.6").status_code == 401
    held = _sign_in(app, "chair_b@test.vn", codes[0], "10.6.6.6")
    assert held.status_code == 429 and int(held.headers["Retry-After"]) >= 1
    # The code was not spent by the refused try: it still works from the owner's desk.
    assert _sign_in(app, "chair_b@test.vn", codes[0], "10.6.0.9").status_code == 302


def test_new_recovery_codes_from_the_page_end_the_old_ones(app, client, world):
    secret, old, browser = _enroll_with_codes(app, "supervisor_p@test.vn")
    page = browser.text("/account/two-factor/recovery-codes")
    wrong = browser.client.post(
        "/account/two-factor/recovery-codes", data={"code": "000000", "csrf_token": csrf_token(page)}
    )
    assert wrong.status_code == 422 and _codes(wrong.get_data(as_text=True)) == []
    made = browser.client.post(
        "/account/two-factor/recovery-codes",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(page)},
    )
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    new = _codes(made.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert _token(client, "supervisor_p@test.vn", old[0]).status_code == 401
    assert _token(client, "supervisor_p@test.vn", new[0]).status_code == 200
    assert len(_admin_events("user.recovery_codes_issued", "user:supervisor_p@test.vn")) == 2


def test_the_recovery_codes_command_hands_over_a_new_set(app, client, runner, world):
    _secret, old, _ = _enroll_with_codes(app, "admin@test.vn")
    result = runner.invoke(args=["caseflow", "recovery-codes", "admin@test.vn"])
    assert result.exit_code == 0, result.output
    new = re.findall(r"[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}", result.output)
    assert len(new) == 10
    assert _token(client, "admin@test.vn", old[0]).status_code == 401
    assert _token(client, "admin@test.vn", new[0]).status_code == 200
    refused = runner.invoke(args=["caseflow", "recovery-codes", "officer_a@test.vn"])
    assert refused.exit_code != 0 and "no authenticator app" in refused.output


def test_users_without_an_app_have_no_recovery_codes_page(app, world):
    browser = Browser(app.test_client())
    browser.login("chair_c@test.vn")
    assert browser.get("/account/two-factor/recovery-codes").status_code == 404


def test_an_admin_reset_also_ends_the_recovery_codes(app, client, world):
    _secret, codes, _ = _enroll_with_codes(app, "chair_c@test.vn")
    admin = Browser(app.test_client())
    admin.login("admin@test.vn")
    resp = admin.post(f"/admin/users/{world.users['chair_c'].id}/reset-password", token_from="/admin/users")
    assert resp.status_code in (200, 302)
    db.session.expire_all()
    assert db.session.get(User, world.users["chair_c"].id).totp_recovery is None


def test_a_recovery_code_raced_by_two_sign_ins_works_once(app, client, world):
    from sqlalchemy.orm.attributes import set_committed_value

    from caseflow.services import two_factor

    _secret, codes, _ = _enroll_with_codes(app, "chair_a@test.vn")
    user = db.session.get(User, world.users["chair_a"].id)
    read_before = user.totp_recovery  # this sign-in read the codes...
    assert _token(client, "chair_a@test.vn", codes[0]).status_code == 200  # ...another spent one
    db.session.expire_all()
    user = db.session.get(User, world.users["chair_a"].id)
    set_committed_value(user, "totp_recovery", read_before)
    assert two_factor.use_recovery_code(user, codes[0]) is False
    assert two_factor.recovery_codes_left(db.session.get(User, user.id)) == 9
