"""The HTML interface: sign-in, my work, cases, supervision and administration, in Vietnamese first."""

from __future__ import annotations

import secrets
import time

from flask import (
    Flask,
    Response,
    abort,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, get_translations, refresh
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from caseflow.extensions import db, login_manager
from caseflow.models import User
from caseflow.services.errors import DomainError
from caseflow.web import helpers
from caseflow.web.helpers import LOCALES, safe_next

# Paths that never carry a browser session: the API uses bearer tokens, static files and the
# icon none.
SESSIONLESS_PREFIXES = ("/api/", "/static/", "/healthz", "/favicon.ico")


def init_app(app: Flask) -> None:
    from caseflow.web import admin, auth, cases, dossier, supervision, tasks

    login_manager.init_app(app)
    app.extensions["caseflow_error_page"] = error_page  # what caseflow.security answers a page's 429 with
    # Flask-Login's "strong" mode does nothing more than "basic" for permanent sessions (ours are):
    # caseflow.security binds each session to the browser that signed in, and the session
    # generation on the user ends every copy at sign-out or a password change.
    login_manager.session_protection = "basic"
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.user_loader(_load_user)
    app.extensions["babel"].locale_selector = select_locale
    # Flask-Login, Flask-WTF and Flask-Babel cache the user, CSRF token and locale on `g`, which
    # outlives a request when an outer app context is pushed (the CLI, tests): renew them per request.
    app.before_request(_fresh_request_state)
    app.before_request(_refuse_nul_in_form)
    app.before_request(_end_idle_session)
    app.after_request(_page_headers)
    app.context_processor(helpers.template_globals)
    # A list page calls gettext hundreds of times; Flask-Babel resolves the locale and catalog on
    # every call, so the pages look the catalog up once per request instead.
    app.jinja_env.install_gettext_callables(_gettext, _ngettext, newstyle=True)
    helpers.register_filters(app)
    for code in (400, 403, 404, 405, 409, 413, 422, 429, 500):
        app.register_error_handler(code, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(DomainError, _domain_error)
    for module in (auth, tasks, cases, supervision, admin):
        app.register_blueprint(module.bp)
    dossier.init_app(app)  # the annex forms' pages, documents and attachments


def _refuse_nul_in_form() -> None:
    """PostgreSQL text cannot hold U+0000: a form or query carrying it is a 400, not a 500.
    The API answers for its own paths with a 422 naming the field."""
    if request.path.startswith("/api/"):
        return
    values = [*request.args.listvalues(), *(request.form.listvalues() if request.method == "POST" else [])]
    if any("\x00" in value for group in values for value in group):
        abort(400)


def _fresh_request_state() -> None:
    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    g.pop("_caseflow_catalog", None)
    refresh()


def _catalog() -> object:
    if not has_request_context():  # a job may render mails in several locales (force_locale)
        return get_translations()
    catalog = g.get("_caseflow_catalog")
    if catalog is None:
        catalog = g._caseflow_catalog = get_translations()
    return catalog


def _gettext(string: str) -> str:
    return _catalog().ugettext(string)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _catalog().ungettext(singular, plural, n)


def _load_user(value: str) -> User | None:
    """The session holds "id:session_token"; a rotated token (password change, deactivation) ends it."""
    user_id, _, token = (value or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or not secrets.compare_digest(user.session_token or "", token):
        return None
    return user


def select_locale() -> str:
    if not has_request_context():  # mails rendered by a job choose their locale themselves
        return "vi"
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    return "vi"


def _end_idle_session() -> Response | None:
    """Sign out after PERMANENT_SESSION_LIFETIME without a request, checked on the server too,
    because a copied cookie would otherwise outlive the browser's own expiry."""
    if request.path.startswith(SESSIONLESS_PREFIXES) or not current_user.is_authenticated:
        return None
    now = int(time.time())
    lifetime = int(helpers.lifetime_seconds())
    seen = session.get("seen")
    if isinstance(seen, int) and now - seen > lifetime:
        locale = session.get("locale")
        logout_user()
        session.clear()
        if locale:
            session["locale"] = locale
        flash(_l("You were signed out after a period of inactivity."), "info")
        return redirect(url_for("auth.login", next=safe_next(request.full_path)))
    session["seen"] = now
    return None


# No script, frame or form target outside CaseFlow; inline style only for the chart bar widths.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _page_headers(response: Response) -> Response:
    if request.path.startswith(SESSIONLESS_PREFIXES):
        return response
    response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    # Pages carry a child's identity: never kept in a shared computer's cache or the back button.
    response.headers["Cache-Control"] = "no-store"
    return response


TITLES = {
    400: _l("The request could not be understood"),
    403: _l("You may not do this"),
    404: _l("Page not found"),
    405: _l("This action is not available here"),
    409: _l("The case changed in the meantime"),
    413: _l("The request is too large"),
    422: _l("Some fields are missing or invalid"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
}
EXPLANATIONS = {
    400: _l("Go back, reload the page and try again."),
    403: _l("Your role or jurisdiction does not allow this page or action."),
    404: _l("The page does not exist, or it is outside your jurisdiction."),
    405: _l("Go back and use the buttons on the page."),
    409: _l("Someone else changed it. Reload the page to see the latest version, then try again."),
    413: _l("Send less text at a time."),
    422: _l("Go back and correct the form."),
    429: _l("Wait a moment and try again."),
    500: _l("The error was recorded. Try again in a moment; if it continues, tell your administrator."),
}


def error_page(status: int, message: str | None = None) -> tuple[str, int]:
    # Never the exception text: it could quote a child's name from the failing request.
    return render_template(
        "pages/error.html",
        status=status,
        title=TITLES.get(status, TITLES[500]),
        explanation=message or EXPLANATIONS.get(status, EXPLANATIONS[500]),
    ), status


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _http_error(exc: HTTPException) -> Response | tuple[str, int]:
    status = exc.code if isinstance(exc, HTTPException) and exc.code else 500
    if _wants_json():
        from caseflow.api import error_response

        return error_response(status, "error", TITLES.get(status, TITLES[500]).__str__())
    return error_page(status)


def _csrf_error(exc: CSRFError) -> tuple[str, int]:
    return error_page(
        400,
        str(_l("The form had expired or was not sent by this site. Reload the page and submit it again.")),
    )


def _domain_error(exc: DomainError) -> Response | tuple[str, int]:
    # Services raise these; views handle the ones they expect (422, 409) in place.
    status = exc.status if exc.status in TITLES else 400
    return error_page(status)


def current_locale() -> str:
    return str(get_locale() or "vi")
