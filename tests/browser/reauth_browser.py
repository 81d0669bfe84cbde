"""Re-authentication in the browser for the reauth tests: age the confirmation, answer the
prompt, and check that the kept post was then made (issue 16 item 6)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import update

from storage.models import User
from tests.browser.site_browser import expire_reauth
from tests.web.accounts import totp_code


def make_stale(page: Any, app: Flask, email: str) -> None:
    """As if the last confirmation were long ago: the next sensitive action asks again.
    The last accepted code is forgotten too, so the test need not wait 30 s for a new one."""
    expire_reauth(page, app)
    with app.extensions["pbx"].unit_of_work() as s:
        s.execute(update(User).where(User.email == email).values(totp_last_step=None))


def confirm(page: Any, app: Flask, email: str, password: str, totp: str) -> None:
    """Answer the prompt; the page says nothing was saved yet before it."""
    page.wait_for_selector("#reauth-form")
    assert "Inget har sparats än" in page.inner_text("#reauth-pending")
    page.fill("#password", password)
    page.fill("#code", totp_code(app, email, totp))
    page.click("#reauth-form button[type=submit]")


def confirm_download(page: Any, app: Flask, email: str, password: str, totp: str) -> str:
    """Answer the prompt for an export: the file downloads; its text."""
    with page.expect_download() as info:
        confirm(page, app, email, password, totp)
    path = info.value.path()
    with open(path, encoding="utf-8-sig") as fh:
        return fh.read()
