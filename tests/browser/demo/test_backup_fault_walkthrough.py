"""The backup fault played in the demo site and recovered in the browser (issue 16 items
2–3): the operator plays it, the company's admin sees the red crosses in the library, the
operator restores the missing media from the newest verified backup and the library is whole
again while the recovery table still counts what was lost."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from pbx.services.common.scope import tenant_by_slug
from tests.browser.conftest import screenshot
from tests.browser.library_browser import sign_in
from tests.web.accounts import make_account

pytestmark = pytest.mark.browser


def test_backup_fault_played_seen_and_restored(app: Flask, live_server: str, browser_page: Any):  # type: ignore[no-untyped-def]
    page, base = browser_page, live_server
    with app.extensions["pbx"].unit_of_work() as s:
        op, op_pw, op_totp = make_account(s, None, role="operator")
        tenant = tenant_by_slug(s, "bergstrom-bygg")
        admin, ad_pw, ad_totp = make_account(s, tenant, role="company_admin", extension="9901")
        op_email, admin_email = op.email, admin.email
    sign_in(page, app, base, op_email, op_pw, op_totp)
    page.goto(f"{base}/operator/")
    page.click("#play-incident")
    page.check("input[name=tenants][value=bergstrom-bygg]")
    page.click("#play-media-loss button[type=submit]")
    page.wait_for_selector("#restore-form")
    assert "Backupfelet är uppspelat" in page.inner_text(".flash-success")
    screenshot(page, "demo-media-loss-played")

    admin_page = page.context.browser.new_context(locale="sv-SE").new_page()
    sign_in(admin_page, app, base, admin_email, ad_pw, ad_totp)
    admin_page.goto(f"{base}/library/")
    assert int(admin_page.get_attribute("#missing-summary", "data-missing") or 0) > 0
    screenshot(admin_page, "demo-media-loss-red-crosses")

    page.select_option("#f-restore-tenant", value="bergstrom-bygg")
    page.click("#restore-missing")
    page.wait_for_selector(".flash-success")
    assert "från backup" in page.inner_text(".flash-success")
    screenshot(page, "demo-media-loss-restored")
    admin_page.reload()
    assert admin_page.get_attribute("#missing-summary", "data-missing") == "0"
    admin_page.context.close()
