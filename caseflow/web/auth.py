"""Sign-in, sign-out, password change and the language switch."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required, login_user, logout_user

from caseflow.security import bind_session_to_browser
from caseflow.services import accounts, two_factor
from caseflow.services.errors import Invalid, TooManyAttempts, Unauthorized
from caseflow.web.forms import (
    LanguageForm,
    LoginForm,
    PasswordChangeForm,
    PostForm,
    RecoveryCodesForm,
    TwoFactorForm,
    attach_errors,
)
from caseflow.web.helpers import LOCALES, safe_next

bp = Blueprint("auth", __name__)

HOME_BY_ROLE = {"admin": "admin.users", "supervisor": "supervision.dashboard"}


def home_url() -> str:
    return url_for(HOME_BY_ROLE.get(current_user.role, "tasks.my_work"))


@bp.get("/")
def index() -> Response:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_url())


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for it on their own, often while a sign-in is on its way. As a 404 page it
    carried the language form, whose CSRF token started a session cookie that could arrive
    after the sign-in's cookie and replace it: the user was back at the sign-in page."""
    return current_app.send_static_file("favicon.svg")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(home_url())
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                form.email.data, form.password.data, request.remote_addr, form.code.data
            )
        except TooManyAttempts as exc:
            form.form_errors.append(
                _(
                    "Too many failed sign-ins from here. Wait %(n)s seconds, then try again.",
                    n=exc.retry_after,
                )
            )
            page = render_template("pages/login.html", form=form)
            return page, 429, {"Retry-After": str(exc.retry_after)}
        except Unauthorized:
            form.form_errors.append(_("Wrong e-mail or password."))
        else:
            locale = session.get("locale")
            session.clear()  # a fresh session at sign-in: nothing from before carries over
            if locale:
                session["locale"] = locale
            login_user(user, remember=False)
            bind_session_to_browser()
            session.permanent = True  # expiry is PERMANENT_SESSION_LIFETIME, renewed on each request
            session["seen"] = int(time.time())
            return redirect(safe_next(request.args.get("next")) or home_url())
        return render_template("pages/login.html", form=form), 401
    return render_template("pages/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    form = PostForm()
    if form.validate_on_submit():
        locale = session.get("locale")
        if current_user.is_authenticated:
            # A new session generation: a copy of this session's cookie stops working too.
            accounts.end_sessions(current_user._get_current_object())
        logout_user()
        session.clear()
        if locale:
            session["locale"] = locale
        flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> Response | str | tuple[str, int]:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current_password.data, form.new_password.data)
        except Invalid as exc:
            attach_errors(form, exc.fields)
            return render_template("pages/password.html", form=form), 422
        # The token rotated, ending every session including this one; keep this browser signed in.
        login_user(current_user._get_current_object(), remember=False)
        bind_session_to_browser()
        flash(_("Your password was changed. Other sessions were signed out."), "success")
        return redirect(home_url())
    status = 422 if form.errors else 200
    return render_template("pages/password.html", form=form), status


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_setup() -> Response | str | tuple[str, int]:
    """Add an authenticator app: the page shows a new secret, a code made from it keeps it."""
    user = current_user._get_current_object()
    if not two_factor.may_use(user):
        abort(404)
    form = TwoFactorForm()
    if form.validate_on_submit():
        codes = two_factor.enroll(user, form.secret.data or "", form.code.data)
        if codes is not None:
            flash(_("The authenticator app is set up. Sign-in now asks for its code."), "success")
            return _show_recovery_codes(codes)
        form.code.errors = [_("The code does not match. Check the app's clock and try again.")]
        status = 422
    else:
        status = 422 if form.errors else 200
        form.secret.data = two_factor.new_secret()
    uri = two_factor.provisioning_uri(user, form.secret.data)
    return render_template(
        "pages/two_factor.html", form=form, uri=uri, enrolled=bool(user.totp_secret)
    ), status


def _show_recovery_codes(codes: list[str]) -> Response:
    """The codes, once: in this answer only (never in the session cookie, which is signed but
    readable), and kept by no cache."""
    page = render_template(
        "pages/recovery_codes.html", codes=codes, form=None, left=len(codes), total=two_factor.RECOVERY_CODES
    )
    return Response(page, 200, headers={"Cache-Control": "no-store"})


@bp.route("/account/two-factor/recovery-codes", methods=["GET", "POST"])
@login_required
def recovery_codes() -> Response | str | tuple[str, int]:
    """How many recovery codes are left, and a new set for the app's current code."""
    user = current_user._get_current_object()
    if not user.totp_secret:
        abort(404)
    form = RecoveryCodesForm()
    status = 200
    if form.validate_on_submit():
        codes = two_factor.regenerate(user, form.code.data)
        if codes is not None:
            flash(_("New recovery codes were made. The old ones no longer work."), "success")
            return _show_recovery_codes(codes)
        form.code.errors = [_("The code does not match. Check the app's clock and try again.")]
        status = 422
    elif form.errors:
        status = 422
    left = two_factor.recovery_codes_left(user)
    return render_template(
        "pages/recovery_codes.html", codes=None, form=form, left=left, total=two_factor.RECOVERY_CODES
    ), status


@bp.post("/language")
def language() -> Response:
    form = LanguageForm()
    if form.validate_on_submit() and form.locale.data in LOCALES:
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            accounts.set_locale(current_user, form.locale.data)
        refresh()
    return redirect(safe_next(form.next.data) or url_for("auth.index"))
