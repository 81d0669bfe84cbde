"""Issue 16 item 16: axe-core (vendored, tests/browser/vendor/axe.min.js, MPL-2.0) run in
Debian's Chromium finds no serious or critical violation on the login, start, library,
message, forwarding, call-log and operator pages, in Swedish and in English."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.browser.library_browser import sign_in
from tests.browser.site_browser import seed_company
from tests.web.accounts import make_account

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SERIOUS = ("serious", "critical")
ADMIN_PAGES = ("/", "/library/", "/library/{slot}", "/me/forwarding", "/calls/")
OPERATOR_PAGES = ("/", "/operator/", "/operator/contain", "/operator/recovery")


def violations(page: Any) -> list[str]:
    """axe's serious and critical violations on the page now: "rule: target …" lines."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the site's CSP (script-src 'self') rightly
        # refuses an injected <script>.
        page.evaluate("() => {" + AXE.read_text(encoding="utf-8") + "\n}")
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in result
        if v["impact"] in SERIOUS
    ]


def check(page: Any, url: str, found: dict[str, list[str]]) -> None:
    page.goto(url)
    lang = page.get_attribute("html", "lang")
    for line in violations(page):
        found.setdefault(f"{lang} {url}", []).append(line)


def switch_language(page: Any, lang: str) -> None:
    page.click(f".langswitch button[value={lang}]")
    assert page.get_attribute("html", "lang") == lang


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_admin_pages(app: Flask, live_server: str, browser_page: Any, lang: str) -> None:
    page, company, found = browser_page, seed_company(app), {}
    page.goto(f"{live_server}/login")
    if lang == "en":
        switch_language(page, "en")
    check(page, f"{live_server}/login", found)
    admin = company.admin
    sign_in(page, app, live_server, admin.email, admin.password, admin.totp)
    for path in ADMIN_PAGES:
        check(page, live_server + path.format(slot=company.slot_missing), found)
    assert not found, found


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_operator_pages(app: Flask, live_server: str, browser_page: Any, lang: str) -> None:
    page, found = browser_page, {}
    with app.extensions["pbx"].unit_of_work() as s:
        operator, password, secret = make_account(s, None, role="operator")
        email = operator.email
    sign_in(page, app, live_server, email, password, secret)
    if lang == "en":
        switch_language(page, "en")
    for path in OPERATOR_PAGES:
        check(page, live_server + path, found)
    assert not found, found
