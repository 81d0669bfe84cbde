"""Opening hours, queues and do-not-disturb in a real browser (headless Chromium): an admin
sets weekly hours and routes a number by them with its closed message, tries a test call as
if it were a Saturday and a weekday (the trace names the branch and why), makes the queue
announce positions with a message on hold; a user switches do-not-disturb on."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.browser.conftest import screenshot
from tests.browser.library_browser import sign_in
from tests.browser.site_browser import seed_company

pytestmark = pytest.mark.browser


def test_admin_routes_a_number_by_hours_and_test_calls_as_if(
    app: Flask, live_server: str, browser_page: Any
) -> None:
    page, company = browser_page, seed_company(app)
    admin = company.admin
    sign_in(page, app, live_server, admin.email, admin.password, admin.totp)
    page.goto(f"{live_server}/hours/?year=2025")
    assert "Midsommarafton" in page.inner_text("#holidays")
    page.fill("#f-day_0", "08:00-12:00, 13:00-17:00")
    page.click("form[action$='/hours/weekly'] button[type=submit]")
    assert "Sparat" in page.inner_text(".flash-success")
    assert page.input_value("#f-day_0") == "08:00–12:00, 13:00–17:00"
    screenshot(page, "site-hours")

    page.click(f"#hours-numbers a[href$='/hours/numbers/{company.number_id}']")
    page.check("#f-by_hours")
    page.select_option("#f-closed_slot_id", str(company.slot_ok))
    page.select_option("#f-closed_kind", "voicemail")
    page.select_option("#f-closed_voicemail", str(company.user.id))
    page.click(f"form[action$='/hours/numbers/{company.number_id}'] button[type=submit]")
    assert "Sparat" in page.inner_text(".flash-success")
    screenshot(page, "site-hours-number")

    page.goto(f"{live_server}/testcall/")
    page.select_option("#f-number", str(company.number_id))
    page.fill("#f-at", "2025-03-08T11:00")
    page.click("#call")
    page.wait_for_selector("#trace")
    first = page.inner_text("#trace li[data-kind='hours']")
    assert "Stängt: utanför öppettiderna (Lördag)" in first
    assert "2025-03-08 11:00" in page.inner_text("#tried-at")
    screenshot(page, "site-testcall-closed")
    page.fill("#f-at", "2025-03-03T12:30")  # lunch break: closed too
    page.click("#call")
    page.wait_for_selector("#trace")
    assert "Stängt" in page.inner_text("#trace li[data-kind='hours']")
    page.fill("#f-at", "2025-03-03T13:30")
    page.click("#call")
    page.wait_for_selector("#trace")
    assert "Öppet (öppettider 13:00–17:00)" in page.inner_text("#trace li[data-kind='hours']")


def test_queue_positions_and_dnd(app: Flask, live_server: str, browser_page: Any) -> None:
    page, company = browser_page, seed_company(app)
    admin = company.admin
    sign_in(page, app, live_server, admin.email, admin.password, admin.totp)
    page.goto(f"{live_server}/queues/{company.queue_id}")
    page.select_option("#f-strategy", "least_recent")
    page.check("#f-announce_position")
    page.select_option("#f-hold_slot_id", str(company.slot_ok))
    page.click("form.card button[type=submit]")
    assert "Sparat" in page.inner_text(".flash-success")
    assert page.is_checked("#f-announce_position")
    screenshot(page, "site-queue-strategy")
    page.goto(f"{live_server}/testcall/")
    page.select_option("#f-number", str(company.number_id))
    page.fill("#f-keys", "2")
    page.click("#call")
    page.wait_for_selector("#trace")
    assert "Du är nummer ett i kön" in page.inner_text("#trace")

    page.goto(f"{live_server}/presence/company")
    assert page.locator("#presence tr[data-dnd='on']").count() == 0
    screenshot(page, "site-presence-company")
