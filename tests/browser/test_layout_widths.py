"""Issue 16 items 13 and 15 in a real browser: the header's menu fits one row at 1280 px
(as every role), and at 390 px (a phone) the message library's table fits the screen with
its red cross visible."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from storage.models import User
from tests.browser.conftest import screenshot
from tests.browser.library_browser import sign_in
from tests.browser.site_browser import seed_company
from tests.web.accounts import make_account

pytestmark = pytest.mark.browser


HEADER_ITEMS = (
    ".topbar .brand, .topbar .mainnav > details > summary, .topbar .accountmenu > *, "
    ".topbar .langswitch button"
)


def one_row(page: Any) -> bool:
    """Whether the header's items share one band: every item's top above every bottom."""
    boxes = page.eval_on_selector_all(
        HEADER_ITEMS,
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; })",
    )
    return max(top for top, _ in boxes) < min(bottom for _, bottom in boxes)


def test_the_menu_fits_one_row_at_1280(app: Flask, live_server: str, browser_page: Any) -> None:
    page, company = browser_page, seed_company(app)
    page.set_viewport_size({"width": 1280, "height": 800})
    long_email = "anna-karin.lindqvist-bergstrom@bergstrom-bygg-och-fastigheter.example"
    with app.extensions["pbx"].unit_of_work() as s:
        operator, password, secret = make_account(s, None, role="operator")
        email = operator.email
        s.get(User, company.user.id).email = long_email  # a long address is cut short
    people = [
        (company.admin.email, company.admin.password, company.admin.totp),
        (long_email, company.user.password, company.user.totp),
        (email, password, secret),
    ]
    for lang in ("sv", "en"):
        for who in people:
            page.context.clear_cookies()
            sign_in(page, app, live_server, *who)
            if lang == "en":
                page.click(".langswitch button[value=en]")
            assert one_row(page), (lang, who[0])
        screenshot(page, f"header-1280-{lang}")


def test_the_library_fits_a_phone(app: Flask, live_server: str, browser_page: Any) -> None:
    page, company = browser_page, seed_company(app)
    page.set_viewport_size({"width": 390, "height": 844})
    admin = company.admin
    sign_in(page, app, live_server, admin.email, admin.password, admin.totp)
    page.goto(f"{live_server}/library/")
    screenshot(page, "library-390")
    assert page.eval_on_selector("#library", "e => e.getBoundingClientRect().right") <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    cross = page.locator(f'#library tr[data-slot-id="{company.slot_missing}"] .red-cross')
    cross.scroll_into_view_if_needed()
    box = cross.bounding_box()
    assert (
        cross.is_visible() and box is not None and 0 <= box["x"] and box["x"] + box["width"] <= 390
    )


def test_incident_times_are_as_wide_as_their_column(
    app: Flask, live_server: str, browser_page: Any
) -> None:
    page = browser_page
    with app.extensions["pbx"].unit_of_work() as s:
        operator, password, secret = make_account(s, None, role="operator")
        email = operator.email
    sign_in(page, app, live_server, email, password, secret)
    page.goto(f"{live_server}/incidents/new")
    for field in ("discovered_at", "started_at", "ended_at"):
        widths = page.eval_on_selector(
            f"#f-{field}", "e => [e.offsetWidth, e.parentElement.clientWidth]"
        )
        assert widths[0] >= widths[1] - 2, (field, widths)
