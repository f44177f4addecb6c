"""Every main page, on the demo data, in both languages and at desk and phone width: no serious or
critical axe-core finding, no untranslated text, no internal code; screenshots for people to see."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from sqlalchemy import select

from caseflow import demo
from caseflow.extensions import db
from caseflow.models import Case
from caseflow.workflow.clock import LOCAL_TZ
from tests.conftest import ROOT
from tests.web.conftest import DESKTOP, PHONE, SCREENSHOTS, serious_violations, sign_in

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
# Words of English that Vietnamese never spells the same way (not "an", "do", "to": Vietnamese ones).
ENGLISH = re.compile(
    r"\b(the|and|of|your|you|with|for|task|tasks|case|cases|due|overdue|step|steps|plan|report|done|"
    r"agency|child|this|that|is|are|not|left|days|hours|working|open|new|by|from|none|null|true|false|"
    r"undefined|error)\b",
    re.IGNORECASE,
)
# Nothing wider than the window: a phone user never scrolls sideways to read a page.
FITS = "document.documentElement.scrollWidth <= window.innerWidth + 1"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")
VISIBLE_TEXT = """() => {
  const clone = document.body.cloneNode(true);
  // Scripts, the measure row template, and the language buttons (each in its own language).
  clone.querySelectorAll('script, style, template, [lang]').forEach(e => e.remove());
  const attrs = [...document.querySelectorAll('[aria-label], [placeholder], [title], [alt]')]
    .filter(e => !e.closest('body [lang]'))
    .map(e => ['aria-label', 'placeholder', 'title', 'alt'].map(a => e.getAttribute(a) || '').join(' '));
  return [document.title, clone.textContent, ...attrs].join(' ');
}"""


def _catalog_fragments() -> dict[str, list[str]]:
    """Per page language, phrases of the OTHER language's catalog text that must not appear: an
    English msgid on a Vietnamese page is an untranslated one, and the other way round."""
    with open(ROOT / "caseflow/translations/vi/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    found: dict[str, set[str]] = {"vi": set(), "en": set()}
    for message in catalog:
        if not message.id or not message.string:
            continue
        english = message.id if isinstance(message.id, str) else message.id[0]
        vietnamese = message.string if isinstance(message.string, str) else message.string[0]
        if english == vietnamese:
            continue
        for lang, text in (("vi", english), ("en", vietnamese)):
            for piece in PLACEHOLDER.split(text):
                piece = piece.strip(" .,:;()·-→")
                if len(piece) >= 14 and len(piece.split()) >= 3:
                    found[lang].add(piece)
    return {lang: sorted(pieces) for lang, pieces in found.items()}


FRAGMENTS = _catalog_fragments()


def language_problems(text: str, locale: str, where: str) -> list[str]:
    text = re.sub(r"\s+", " ", text)
    problems = [f"{where}: code {word!r}" for word in sorted(set(SNAKE.findall(text)))]
    problems += [f"{where}: other language {p!r}" for p in FRAGMENTS[locale] if p in text]
    if locale == "vi":
        problems += [f"{where}: English {w!r}" for w in sorted({m.lower() for m in ENGLISH.findall(text)})]
    return problems


@pytest.fixture
def demo_data(app) -> dict[str, int]:
    for _ in demo.seed():
        pass
    ids = list(db.session.scalars(select(Case.id).order_by(Case.id)))
    return {"emergency": ids[0], "awaiting_approval": ids[1], "dismissed": ids[2]}


def _walk(demo_data: dict[str, int]) -> list[tuple[str | None, list[tuple[str, str]]]]:
    emergency, planned = demo_data["emergency"], demo_data["awaiting_approval"]
    today = datetime.now(LOCAL_TZ).date()
    year_ago = today - timedelta(days=365)
    return [
        (None, [("login", "/login")]),
        (
            "canbo.dongkinh@demo.caseflow.vn",
            [
                ("my-work-officer", "/tasks"),
                ("intake", "/cases/new"),
                ("case-officer", f"/cases/{emergency}"),
                ("form-mau-01", f"/cases/{emergency}/forms/mau_01"),
                ("overview-officer", "/supervision"),
                ("password", "/account/password"),
                ("error-404", "/cases/999999"),
            ],
        ),
        (
            "congan.dongkinh@demo.caseflow.vn",
            [("my-work-police", "/tasks"), ("case-police", f"/cases/{emergency}")],
        ),
        (
            "chutich.dongkinh@demo.caseflow.vn",
            [
                ("my-work-chair", "/tasks"),
                ("case-chair-plan", f"/cases/{planned}"),
                ("two-factor-chair", "/account/two-factor"),
            ],
        ),
        (
            "giamsat@demo.caseflow.vn",
            [
                ("overview-supervisor", "/supervision"),
                ("my-work-supervisor", "/tasks"),
                ("cases-supervisor", "/cases"),
                ("case-supervisor", f"/cases/{demo_data['dismissed']}"),
                ("report-form-supervisor", "/reports/periodic"),
                # A period asked for: the report's own tables, labels and figures are checked too.
                ("report-supervisor", f"/reports/periodic?from={year_ago}&to={today}"),
                ("reports-owed-supervisor", "/supervision/reports"),
                ("agencies-supervisor", "/supervision/agencies"),
                ("adhoc-supervisor", "/supervision/adhoc"),
            ],
        ),
        (
            "admin@demo.caseflow.vn",
            [
                ("admin-users", "/admin/users"),
                ("admin-units", "/admin/org-units"),
                ("admin-agencies", "/admin/agencies"),
                ("admin-calendar", "/admin/calendar"),
                ("admin-notifications", "/admin/notifications"),
            ],
        ),
    ]


def _choose(page, locale: str) -> None:
    with page.expect_navigation():
        page.click(f"button[name=locale][value={locale}]")


@pytest.mark.browser
def test_every_main_page_is_accessible_and_in_one_language(new_page, demo_data, backend):
    """On both backends every page is read in both languages: what a page says (times, durations,
    labels, the order of lists) comes from the database. The markup checks and the screenshots
    run once, on SQLite: the markup is the templates', the same on either, and they take most of
    the walk's time. Screenshots and the fit to the screen are taken in both languages (words
    differ in length); axe runs at both widths in Vietnamese, the default: the two languages
    share every element, role, label and colour, and axe was half of the walk's time."""
    markup = backend == "sqlite"
    problems: list[str] = []
    for who, pages in _walk(demo_data):
        page = new_page()
        if who:
            sign_in(page, who, demo.DEMO_PASSWORD)
        else:
            page.goto("/login")
        for locale in ("vi", "en"):
            _choose(page, locale)
            for name, path in pages:
                page.set_viewport_size(DESKTOP)
                response = page.goto(path)
                assert response.status == (404 if name.startswith("error-") else 200), (name, response.status)
                assert page.locator("html").get_attribute("lang") == locale, (name, locale)
                problems += language_problems(page.evaluate(VISIBLE_TEXT), locale, f"{name} [{locale}]")
                for label, size in (("desktop", DESKTOP), ("phone", PHONE)) if markup else ():
                    page.set_viewport_size(size)
                    if locale == "vi":
                        problems += serious_violations(page, f"{name} [{locale}, {size['width']}px]")
                    if not page.evaluate(FITS):
                        problems.append(f"{name} [{locale}, {size['width']}px]: wider than the screen")
                    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(SCREENSHOTS / f"{name}-{locale}-{label}.png"), full_page=True)
        page.context.close()
    assert not problems, "\n".join(problems)


def test_every_message_the_code_uses_has_its_vietnamese_translation():
    """No msgid reaches a page or a mail untranslated: each one extracted from the code (as
    babel.cfg maps it) has a Vietnamese msgstr."""
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    with open(ROOT / "caseflow/translations/vi/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    missing = []
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        msgid = message if isinstance(message, str) else message[0]
        entry = catalog.get(msgid)
        strings = entry.string if entry is not None else ""
        if not strings or (isinstance(strings, tuple) and not all(strings)):
            missing.append(f"{Path(filename)}:{lineno}: {msgid!r}")
    assert not missing, "\n".join(missing)
