"""The administration site in a real browser (headless Chromium): an admin forwards a user to
an external Swedish mobile (re-authentication asked for), is refused a +882 number with the
reason, edits an IVR key and runs a test call through the IVR; a user changes their own
forwarding; the language switch. Screenshots go to test-artifacts/."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.browser.conftest import screenshot
from tests.browser.library_browser import sign_in
from tests.browser.site_browser import expire_reauth, seed_company
from tests.web.accounts import totp_code

pytestmark = pytest.mark.browser


def test_admin_forwards_to_an_external_mobile_after_reauth_and_is_refused_882(
    app: Flask, live_server: str, browser_page: Any
) -> None:
    page, company = browser_page, seed_company(app)
    admin = company.admin
    sign_in(page, app, live_server, admin.email, admin.password, admin.totp)
    page.goto(f"{live_server}/users/")
    screenshot(page, "site-users")
    expire_reauth(page, app)
    page.goto(f"{live_server}/users/{company.user.id}/forwarding")
    page.fill("#f-unconditional-destination", "+46 70 765 43 21")
    page.click("#fwd-unconditional button[value=save]")
    page.wait_for_selector("#reauth-form")  # the re-authentication prompt
    assert "/reauth" in page.url
    screenshot(page, "site-forwarding-reauth")
    page.fill("#password", admin.password)
    page.fill("#code", totp_code(app, admin.email, admin.totp))
    page.click("#reauth-form button[type=submit]")  # then saved without saving again
    # the confirmation page sends the kept form on by itself: wait for the saved rule, not
    # for the first success message (the confirmation page has one of its own)
    page.wait_for_selector("#fwd-unconditional .current:has-text('+46707654321')")
    page.wait_for_selector(".flash-success")
    assert "+46707654321" in page.inner_text("#fwd-unconditional .current")
    assert "har fått besked" in page.inner_text(".flash-success")
    screenshot(page, "site-forwarding-saved")

    page.fill("#f-busy-destination", "+882 1234 5678")
    page.click("#fwd-busy button[value=save]")
    reason = page.inner_text("#fwd-busy .field-error")
    assert "+882" in reason and "aldrig tillåtna" in reason
    screenshot(page, "site-forwarding-refused-882")


def test_admin_edits_an_ivr_key_and_test_calls_through_the_ivr(
    app: Flask, live_server: str, browser_page: Any
) -> None:
    page, company = browser_page, seed_company(app)
    admin = company.admin
    sign_in(page, app, live_server, admin.email, admin.password, admin.totp)
    page.goto(f"{live_server}/ivr/{company.menu_id}")
    page.click("#ivr-keys tr[data-digit='1'] a")
    page.select_option("#f-target_kind", "voicemail")
    assert page.is_visible("#f-target_voicemail") and not page.is_visible("#f-target_queue")
    page.select_option("#f-target_voicemail", str(company.user.id))
    page.click("#key-form button[type=submit]")
    assert "Knapp 1 är sparad" in page.inner_text(".flash-success")
    assert "Röstbrevlåda för" in page.inner_text("#ivr-keys tr[data-digit='1']")
    screenshot(page, "site-ivr-editor")

    page.goto(f"{live_server}/testcall/")
    page.select_option("#f-number", str(company.number_id))
    page.click(".keypad button[data-key='1']")
    assert page.input_value("#f-keys") == "1"
    page.click("#call")
    page.wait_for_selector("#trace")
    kinds = page.eval_on_selector_all("#trace li", "items => items.map(i => i.dataset.kind)")
    assert kinds[0] == "prompt" and kinds.count("prompt") >= 2
    assert "dtmf" in kinds and "voicemail" in kinds
    missing = page.locator("#trace li.missing")
    assert missing.count() == 1 and "Välkommen" in missing.inner_text()
    color = missing.evaluate("li => getComputedStyle(li).color")
    assert color == "rgb(192, 39, 27)"  # the site's red
    assert page.locator("#trace audio").count() >= 1 and page.is_visible("#play-call")
    screenshot(page, "site-testcall-trace")


def test_user_changes_own_forwarding(app: Flask, live_server: str, browser_page: Any) -> None:
    page, company = browser_page, seed_company(app)
    user = company.user
    sign_in(page, app, live_server, user.email, user.password, user.totp)
    page.click("summary:has-text('Mina inställningar')")
    page.click("a:has-text('Vidarekoppling')")
    assert page.url.endswith("/me/forwarding")
    page.fill("#f-no_answer-destination", "100")
    page.fill("#f-no_answer-ring", "15")
    page.click("#fwd-no_answer button[value=save]")
    assert "100" in page.inner_text("#fwd-no_answer .current")
    screenshot(page, "site-my-forwarding")
    page.goto(f"{live_server}/calls/")
    screenshot(page, "site-call-log-user")


def test_language_switch(app: Flask, live_server: str, browser_page: Any) -> None:
    page, company = browser_page, seed_company(app)
    admin = company.admin
    sign_in(page, app, live_server, admin.email, admin.password, admin.totp)
    page.goto(f"{live_server}/calls/")
    assert page.inner_text("h1") == "Samtalslista"
    page.click(".langswitch button")
    assert page.inner_text("h1") == "Call logs" and page.url.endswith("/calls/")
    assert page.locator("summary:has-text('My settings')").count() == 1
    screenshot(page, "site-call-log-english")
    page.click(".langswitch button")
    assert page.inner_text("h1") == "Samtalslista"


def test_admin_pages_render_without_csp_or_script_errors(
    app: Flask, live_server: str, browser_page: Any
) -> None:
    page, company = browser_page, seed_company(app)
    problems: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error" and "favicon" not in str(message.location.get("url")):
            problems.append(message.text)

    page.on("console", console)  # CSP violations and script errors are reported here
    page.on("pageerror", lambda error: problems.append(str(error)))
    admin = company.admin
    sign_in(page, app, live_server, admin.email, admin.password, admin.totp)
    tour = {
        "site-company": "/company/",
        "site-countries": "/company/countries",
        "site-numbers": f"/numbers/{company.number_id}",
        "site-user-edit": f"/users/{company.user.id}",
        "site-queue-editor": f"/queues/{company.queue_id}",
        "site-call-log-admin": "/calls/",
    }
    for name, path in tour.items():
        page.goto(f"{live_server}{path}")
        screenshot(page, name)
    page.click("summary:has-text('Organisation')")
    assert page.is_visible("a:has-text('Knappval')")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(f"{live_server}/users/{company.user.id}/forwarding")
    screenshot(page, "site-forwarding-phone")
    assert problems == []
