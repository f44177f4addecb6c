"""What every request passes through for security: proxy headers, rate limits, security headers.

The rate-limited endpoints and their limits are listed here, in one place (`LIMITED`); the
limits themselves are settings. A limit answers 429 with `Retry-After`, in the contract's
error shape on the API and as the error page elsewhere.
"""

from __future__ import annotations

import functools
import hashlib
import math
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, redirect, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user, logout_user
from limits.storage import storage_from_string
from werkzeug.middleware.proxy_fix import ProxyFix

from caseflow.services import throttle


@functools.cache
def _setting(name: str) -> Callable[[], str]:
    # One callable per setting, whichever app asks: a limiter keeps one copy of a limit only
    # if the limits compare equal.
    return lambda: current_app.config[name]


def _account_key() -> str:
    """The account a sign-in names, hashed (the limiter's storage never holds an email)."""
    email = request.form.get("email")
    if email is None:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    return "account:" + hashlib.sha256(str(email or "").strip().lower().encode()).hexdigest()[:32]


def _known_address() -> bool:
    """The account's per-account limit spares an address it signed in from lately, so a stranger
    guessing from many addresses slows them all down but never keeps the owner out."""
    email = request.form.get("email")
    if email is None:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    return throttle.known_address(str(email or ""), request.remote_addr)


def _failed(response: Response) -> bool:
    return response.status_code in (401, 429)


# endpoint -> the limits on it: (setting, per-address or per-account, methods)
LIMITED: dict[str, list[dict]] = {
    "auth.login": [
        {"setting": "CASEFLOW_SIGNIN_LIMIT", "methods": ["POST"]},
        {"setting": "CASEFLOW_SIGNIN_ACCOUNT_LIMIT", "methods": ["POST"], "per_account": True},
    ],
    "api.token": [
        {"setting": "CASEFLOW_SIGNIN_LIMIT", "methods": ["POST"]},
        {"setting": "CASEFLOW_SIGNIN_ACCOUNT_LIMIT", "methods": ["POST"], "per_account": True},
    ],
    "actions.confirm": [{"setting": "CASEFLOW_LINK_LIMIT"}],
    "actions.perform": [{"setting": "CASEFLOW_LINK_LIMIT"}],
    "auth.password": [{"setting": "CASEFLOW_PASSWORD_LIMIT", "methods": ["POST"]}],
}


def limiter_of(app: Flask | None = None) -> Limiter:
    """The app's own limiter. One per app, not one per process: Flask-Limiter keeps the storage
    of the last app it was given, so a second app in a process (a test, a script) would count
    in the first one's storage, Redis or memory."""
    return (app or current_app).extensions["caseflow_limiter"]


def _apply_limits(app: Flask, limiter: Limiter) -> None:
    for endpoint, limits in LIMITED.items():
        view = app.view_functions.get(endpoint)
        if view is None:
            continue
        for spec in limits:
            options: dict = {"methods": spec.get("methods"), "scope": f"{endpoint}:{spec['setting']}"}
            if spec.get("per_account"):
                options.update(key_func=_account_key, deduct_when=_failed, exempt_when=_known_address)
            view = limiter.limit(_setting(spec["setting"]), **options)(view)
        app.view_functions[endpoint] = view


def _retry_after() -> int:
    current = limiter_of().current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))


def _too_many(exc: Exception) -> tuple:
    retry = getattr(exc, "retry_after", None) or _retry_after()
    headers = {"Retry-After": str(retry)}
    # The API's and the pages' own error shapes, which their init_app set: security sits under
    # both and imports neither.
    if request.path.startswith("/api/"):
        error_response = current_app.extensions["caseflow_api_error"]
        body, status = error_response(429, "rate_limited", f"Too many requests; retry after {retry} seconds")
        return body, status, headers
    page, status = current_app.extensions["caseflow_error_page"](429)
    return page, status, headers


def _browser_mark() -> str:
    return hashlib.sha256(request.headers.get("User-Agent", "").encode()).hexdigest()[:16]


def bind_session_to_browser() -> None:
    """Called at sign-in: the session works only from a browser that says it is the same one."""
    session["browser"] = _browser_mark()


SESSIONLESS_PREFIXES = ("/api/", "/static/", "/healthz", "/favicon.ico")


def _check_session_browser() -> Response | None:
    """A session cookie replayed from another browser is signed out (its address may change:
    phones move between networks, so only the browser is compared)."""
    if request.path.startswith(SESSIONLESS_PREFIXES) or "_user_id" not in session:
        return None
    if session.get("browser") == _browser_mark():
        return None
    locale = session.get("locale")
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale
    return redirect(url_for("auth.login"))


# Where a user who must set up a second factor may still go.
TWO_FACTOR_OPEN = ("auth.two_factor_setup", "auth.logout", "auth.language", "static", "auth.favicon")


def _require_two_factor() -> Response | None:
    """Roles the setting names must add an authenticator app before any other page."""
    if request.path.startswith(SESSIONLESS_PREFIXES) or request.endpoint in TWO_FACTOR_OPEN:
        return None
    user = current_user
    if not user or not user.is_authenticated or user.totp_secret:
        return None
    from caseflow.services import two_factor

    if two_factor.required_for(user):
        return redirect(url_for("auth.two_factor_setup"))
    return None


def _headers(response: Response) -> Response:
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def _proxy_fix(app: Flask) -> None:
    """Behind a reverse proxy, trust its X-Forwarded-* headers (as many hops as set), so limits
    count the real client and HTTPS is seen; by default trust none (a client could fake them)."""
    hops = {
        name: int(app.config.get(f"CASEFLOW_PROXY_FIX_X_{name.upper()}") or 0)
        for name in ("for", "proto", "host", "port", "prefix")
    }
    if any(hops.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **{f"x_{k}": v for k, v in hops.items()})


def init_app(app: Flask) -> None:
    _proxy_fix(app)
    storage_uri = app.config.get("REDIS_URL") or "memory://"
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", app.config.get("CASEFLOW_QUEUE_PREFIX", "caseflow"))
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Redis when REDIS_URL is set: every web process and worker of the installation counts in
    # one place, so a guesser cannot multiply the limit by the number of processes.
    limiter = Limiter(key_func=get_remote_address, headers_enabled=True)
    limiter.init_app(app)
    app.extensions["caseflow_limiter"] = limiter
    # The sign-in delays keep their own counters: they apply even where limits are switched off.
    app.extensions["caseflow_throttle_storage"] = storage_from_string(storage_uri)
    app.extensions["caseflow_throttle_prefix"] = app.config.get("CASEFLOW_QUEUE_PREFIX", "caseflow")
    _apply_limits(app, limiter)
    app.register_error_handler(RateLimitExceeded, _too_many)
    app.register_error_handler(429, _too_many)
    app.before_request(_check_session_browser)
    app.before_request(_require_two_factor)
    app.after_request(_headers)
