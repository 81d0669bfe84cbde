"""Issue 17 items 4–7 in a real browser (headless Chromium): a user sets their voicemail PIN
and chooses e-mail with the recording; an admin reads the numbers table, the call statistics
(SVG charts, no JavaScript needed) and imports users from a CSV file through the preview.
Screenshots go to test-artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from storage.models import User, VoicemailBox
from tests.browser.conftest import screenshot
from tests.browser.library_browser import sign_in
from tests.browser.site_browser import seed_company

pytestmark = pytest.mark.browser


def test_user_sets_pin_and_email(app: Flask, live_server: str, browser_page: Any) -> None:
    page, company = browser_page, seed_company(app)
    user = company.user
    sign_in(page, app, live_server, user.email, user.password, user.totp)
    page.goto(f"{live_server}/my/voicemail/settings")
    page.fill("#f-new_pin", "4711")
    page.fill("#f-confirm_pin", "4711")
    page.click("#pin-form button[type=submit]")
    assert "sparad" in page.inner_text(".flash-success")
    page.check("#f-email-attach")
    page.check("#f-greeting_only")
    page.click("#mailbox-form button[type=submit]")
    screenshot(page, "voicemail-settings")
    with app.extensions["pbx"].unit_of_work() as s:
        box = s.scalars(select(VoicemailBox).where(VoicemailBox.user_id == user.id)).one()
        assert box.pin_hash and box.email_notify == "attach" and box.greeting_only


def test_admin_numbers_statistics_and_import(
    app: Flask, live_server: str, browser_page: Any, tmp_path: Path
) -> None:
    page, company = browser_page, seed_company(app)
    admin = company.admin
    sign_in(page, app, live_server, admin.email, admin.password, admin.totp)
    page.goto(f"{live_server}/numbers/")
    assert "knapp 1" in page.inner_text("table.list")
    screenshot(page, "numbers-leads")
    page.goto(f"{live_server}/stats/?first=2026-06-01&last=2026-07-31")
    assert page.is_visible("#chart-hours") and page.is_visible("#chart-outcomes")
    screenshot(page, "call-statistics")
    path = tmp_path / "users.csv"
    path.write_text("namn;e-post;anknytning\nKarin Ek;karin@ek.example;701\n;fel;07\n")
    page.goto(f"{live_server}/users/import/")
    page.set_input_files("#f-file", str(path))
    page.click("#import-upload button[type=submit]")
    assert page.get_attribute("#import-preview", "data-ok") == "no"
    assert "Namn:" in page.inner_text("tr[data-line='3']")
    screenshot(page, "user-import-errors")
    path.write_text("namn;e-post;anknytning\nKarin Ek;karin@ek.example;701\n")
    page.set_input_files("#f-file", str(path))
    page.click("#import-upload button[type=submit]")
    page.click("#import-confirm button[type=submit]")
    assert "användare är tillagda" in page.inner_text(".flash-success")
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.scalar(select(User.id).where(User.email == "karin@ek.example"))
