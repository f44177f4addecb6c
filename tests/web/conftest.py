"""Web fixtures: a signed-in test client, and a live server with Chromium for the browser tests.

Web tests run on both backends, like the API's: the live server's thread and the test read the
same database (the SQLite file, or the PostgreSQL database made for this run).
"""

from __future__ import annotations

import functools
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, ROOT

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


class Browser:
    """A test client that signs in through the login form and posts forms with their token."""

    def __init__(self, client) -> None:
        self.client = client

    def token(self, url: str = "/login") -> str:
        return csrf_token(self.client.get(url).get_data(as_text=True))

    def login(self, email: str, password: str = PASSWORD):
        return self.client.post(
            "/login", data={"email": email, "password": password, "csrf_token": self.token("/login")}
        )

    def post(self, url: str, data: dict | None = None, token_from: str | None = None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token(token_from or url))
        return self.client.post(url, data=data, **kw)

    def get(self, url: str, **kw):
        return self.client.get(url, **kw)

    def text(self, url: str) -> str:
        resp = self.client.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
        return resp.get_data(as_text=True)


@pytest.fixture
def web(app, world):
    """Sign in as `key` (a World user), returning a Browser on its own cookie jar."""

    def _as(key: str) -> Browser:
        browser = Browser(app.test_client())
        resp = browser.login(f"{key}@test.vn")
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return browser

    return _as


@pytest.fixture
def live_server(app):
    """The app served by werkzeug on a free port in a thread, over the test's database."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's Chromium is not installed")
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium, live_server):
    """Pages on their own browser contexts (own cookies), so two users can act side by side."""
    contexts = []

    def _new(viewport: dict | None = None):
        context = chromium.new_context(
            viewport=viewport or DESKTOP, base_url=live_server, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield _new
    for context in contexts:
        context.close()


def shoot(page, name: str) -> None:
    """Full-page screenshots of a main page at desktop and phone width, for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone-first-screen.png"))  # what a phone shows first
    page.set_viewport_size(original)


def serious_violations(page, where: str) -> list[str]:
    """axe-core's serious and critical findings on the page as shown (axe injected from the
    installed package, no network)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):  # once per document, not per width
        page.evaluate(_axe_script())
    response = page.evaluate("axe.run({resultTypes: ['violations']})")
    return [
        f"{where}: {v['id']} ({v['impact']}) {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


@functools.cache
def _axe_script() -> str:
    from axe_playwright_python.sync_playwright import Axe

    return Axe().axe_script


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
