"""Mina inställningar / Telefon in a real browser (headless Chromium): a user finds the page in
the menu, asks for new phone credentials, confirms it is them, sees the credentials once with
baresip's line, Linphone's fields and the QR code; a reload shows no password. An admin sees
the user's phone in the users list. Screenshots go to test-artifacts/."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from pbx.services.common.actor import Actor
from pbx.services.people import phones
from storage.models import User
from tests.browser.conftest import screenshot
from tests.browser.library_browser import sign_in
from tests.browser.site_browser import expire_reauth, seed_company
from tests.web.accounts import TEST_SECRET_KEY, totp_code

pytestmark = pytest.mark.browser


def test_a_user_gets_phone_credentials_once_after_reauth(
    app: Flask, live_server: str, browser_page: Any
) -> None:
    page, company = browser_page, seed_company(app)
    user = company.user
    sign_in(page, app, live_server, user.email, user.password, user.totp)
    page.goto(f"{live_server}/my/voicemail/")
    page.click("summary:has-text('Mina inställningar')")
    page.click(".mainnav a[href='/my/phone']")
    page.wait_for_selector("#phone-status")
    assert "Ingen telefon är registrerad" in page.inner_text("#phone-status")
    expire_reauth(page, app)
    page.click("#new-phone-credentials")
    page.wait_for_selector("#reauth-form")
    page.fill("#password", user.password)
    page.fill("#code", totp_code(app, user.email, user.totp))
    page.click("#reauth-form button[type=submit]")
    page.wait_for_selector("#new-credentials")  # the request is made right after confirming
    username, password = page.inner_text("#sip-username"), page.inner_text("#sip-password")
    assert username == "webb-1-101" and len(password) >= 20
    line = page.inner_text("#baresip-line")
    assert line.startswith(f"<sip:{username}@127.0.0.1:5060") and f"auth_pass={password}" in line
    box = page.locator("#sip-qr svg").bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100
    with app.extensions["pbx"].unit_of_work() as s:
        stored = phones.password_for(s, phones.secret_box(TEST_SECRET_KEY), username)
        assert stored is not None and stored[1] == password
    screenshot(page, "phone-credentials")
    page.goto(f"{live_server}/my/phone")
    assert password not in page.content() and username in page.inner_text("#phone-credentials")


def test_an_admin_sees_which_users_have_a_registered_phone(
    app: Flask, live_server: str, browser_page: Any
) -> None:
    page, company = browser_page, seed_company(app)
    with app.extensions["pbx"].unit_of_work() as s:
        person = s.get(User, company.user.id)
        owner = Actor(person.id, person.email, person.role, person.tenant_id)
        phones.issue_credentials(s, phones.secret_box(TEST_SECRET_KEY), owner, person)
        account = phones.account_of(s, person)
        assert account is not None
        contact = phones.Contact(person.id, "sip:101@127.0.0.1:5072", "udp", "127.0.0.1", 5072)
        phones.register(s, account, contact, 600, "baresip v1.0.0")
    admin = company.admin
    sign_in(page, app, live_server, admin.email, admin.password, admin.totp)
    page.goto(f"{live_server}/users/")
    page.click(f"a[href='/users/{company.user.id}/phone']")
    page.wait_for_selector("#registrations")
    assert "baresip v1.0.0" in page.inner_text("#registrations")
    screenshot(page, "phone-admin-view")
