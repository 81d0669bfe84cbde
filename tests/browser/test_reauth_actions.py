"""Every action behind re-authentication, in Chromium (issue 16 item 6): the person asks for
the action, confirms password and code, and the action is then made without doing it again:
the export downloads, the forwarding is saved, the revert happens, the credentials show."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from pbx.incident import containment
from pbx.services.routing import forwarding
from storage.models import FraudAlert, Tenant, User, VoicemailMessage
from tests.browser.library_browser import sign_in
from tests.browser.reauth_browser import confirm, confirm_download, make_stale
from tests.browser.site_browser import seed_company
from tests.integration.incident_world import build_takeover, forwarded_legs, write_traffic
from tests.web.accounts import make_account
from tests.web.library_data import build_studio, lose_blob

pytestmark = pytest.mark.browser


def test_company_admin_actions_survive_reauthentication(
    app: Flask, live_server: str, browser_page: Any
) -> None:
    page, company = browser_page, seed_company(app)
    admin, base = company.admin, live_server
    who = (app, admin.email, admin.password, admin.totp)
    sign_in(page, app, base, admin.email, admin.password, admin.totp)

    make_stale(page, app, admin.email)  # forwarding to an external number
    page.goto(f"{base}/users/{company.user.id}/forwarding")
    page.fill("#f-unconditional-destination", "+46 70 765 43 21")
    page.click("#fwd-unconditional button[value=save]")
    confirm(page, *who)
    page.wait_for_selector(".flash-success")
    assert "+46707654321" in page.inner_text("#fwd-unconditional .current")

    make_stale(page, app, admin.email)  # the call log export
    page.goto(f"{base}/calls/")
    page.click("form.export button[type=submit]")
    assert confirm_download(page, *who).count("\n") >= 2  # a header and the calls

    make_stale(page, app, admin.email)  # a country added
    page.goto(f"{base}/company/countries")
    page.fill("#f-countries", "NO DK")
    page.click("form.card button[type=submit]")
    confirm(page, *who)
    page.wait_for_selector(".flash-success")
    with app.extensions["pbx"].unit_of_work() as s:
        assert {"NO", "DK"} <= set(s.get(Tenant, company.tenant_id).allowed_countries)

    make_stale(page, app, admin.email)  # the voicemail PIN off
    page.goto(f"{base}/company/")
    page.check("#f-trust_calling_number")
    page.click("form[action$='/voicemail-pin'] button[type=submit]")
    confirm(page, *who)
    page.wait_for_selector(".flash-success")
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.get(Tenant, company.tenant_id).voicemail_trust_calling_number

    make_stale(page, app, admin.email)  # a user's mobile
    page.goto(f"{base}/users/{company.user.id}")
    page.fill("#f-mobile", "+46 70 111 22 33")
    page.click("form.card button[type=submit] >> nth=0")
    confirm(page, *who)
    page.wait_for_selector(".flash-success")
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.get(User, company.user.id).mobile == "+46701112233"

    make_stale(page, app, admin.email)  # a user's phone credentials
    page.goto(f"{base}/users/{company.user.id}/phone")
    page.click("#new-phone-credentials")
    confirm(page, *who)
    page.wait_for_selector("#new-credentials")


def test_the_call_back_list_downloads_after_reauthentication(
    app: Flask, live_server: str, browser_page: Any
) -> None:
    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as s:
        studio = build_studio(s, runtime.blobs(s), 1)
        sha = s.get(VoicemailMessage, studio.voicemail_lost).blob_sha256
    lose_blob(app, sha)
    page, admin = browser_page, studio.admin
    assert admin.totp is not None
    sign_in(page, app, live_server, admin.email, admin.password, admin.totp)
    make_stale(page, app, admin.email)
    page.goto(f"{live_server}/callbacks/")
    page.click("form[action$='/callbacks/export'] button")
    assert "+46709998877" in confirm_download(page, app, admin.email, admin.password, admin.totp)


def test_user_actions_survive_reauthentication(
    app: Flask, live_server: str, browser_page: Any
) -> None:
    page, company = browser_page, seed_company(app)
    user, base = company.user, live_server
    who = (app, user.email, user.password, user.totp)
    sign_in(page, app, base, user.email, user.password, user.totp)

    make_stale(page, app, user.email)  # own phone credentials
    page.goto(f"{base}/my/phone")
    page.click("#new-phone-credentials")
    confirm(page, *who)
    page.wait_for_selector("#new-credentials")

    page.goto(f"{base}/softphone/number")  # the callback number (the page itself asks first)
    make_stale(page, app, user.email)
    page.fill("#f-number", "+46 70 222 33 44")
    page.click("form.card button[type=submit]")
    confirm(page, *who)
    page.wait_for_selector(".flash-success")
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.get(User, company.user.id).mobile == "+46702223344"

    make_stale(page, app, user.email)  # new recovery codes
    page.goto(f"{base}/account/two-factor")
    page.click("form[action$='/recovery-codes'] button")
    confirm(page, *who)
    page.wait_for_selector("#recovery-codes")

    make_stale(page, app, user.email)  # two-factor off
    page.goto(f"{base}/account/two-factor")
    page.click("form[action$='/disable'] button")
    confirm(page, *who)
    page.wait_for_selector(".flash-warning")
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.get(User, company.user.id).totp_secret_enc is None


def test_operator_actions_survive_reauthentication(
    app: Flask, live_server: str, browser_page: Any
) -> None:
    page, base = browser_page, live_server
    with app.extensions["pbx"].unit_of_work() as s:
        world = build_takeover(s)
        quick = timedelta(milliseconds=1)
        write_traffic(s, forwarded_legs(world, 20, start=world.changed_at, step=quick))
        operator, password, secret = make_account(s, None, role="operator")
        email, victim_id, slug = operator.email, world.victim.id, world.tenant.slug
        day = world.day()
    assert secret is not None
    who = (app, email, password, secret)
    sign_in(page, app, base, email, password, secret)

    page.goto(f"{base}/operator/")  # the scan finds the fraud, contains it and alerts
    page.click("form[action$='/operator/scan'] button")
    with app.extensions["pbx"].unit_of_work() as s:
        alert_id = s.scalar(select(FraudAlert.id).where(FraudAlert.status == "open"))
    assert alert_id is not None

    make_stale(page, app, email)  # the accounts behind the alert contained
    page.goto(f"{base}/operator/")
    page.click(f"form:has(input[name=alert_id][value='{alert_id}']) button")
    confirm(page, *who)
    page.wait_for_selector(".flash-success")
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.get(FraudAlert, alert_id).status == "contained"

    make_stale(page, app, email)  # the block on the account's forwarding lifted
    page.goto(f"{base}/operator/")
    page.click(f"form:has(input[name=user_id][value='{victim_id}']) button")
    confirm(page, *who)
    page.wait_for_selector(".flash-success")
    with app.extensions["pbx"].unit_of_work() as s:
        assert containment.open_block(s, victim_id) is None

    make_stale(page, app, email)  # reverting the attacker's forwarding changes
    page.goto(f"{base}/operator/forwarding?since={day}&until={day}")
    page.check("input[name=event_id] >> nth=0")
    page.click("form:has(input[name=event_id]) button[type=submit]")
    confirm(page, *who)
    page.wait_for_selector(".flash-success")
    with app.extensions["pbx"].unit_of_work() as s:
        assert forwarding.find_rule(s, victim_id, "unconditional") is None

    make_stale(page, app, email)  # the affected callers' CSV
    page.goto(f"{base}/operator/affected-callers")
    page.check(f"input[name=tenants][value='{slug}']")
    page.fill("#f-since", day)
    page.fill("#f-until", day)
    page.click("button[formaction$='/affected-callers']")
    assert confirm_download(page, *who).count("\n") >= 20

    make_stale(page, app, email)  # the letters
    page.goto(f"{base}/operator/affected-callers")
    page.check(f"input[name=tenants][value='{slug}']")
    page.fill("#f-since", day)
    page.fill("#f-until", day)
    page.click("button[formaction$='/letters']")
    confirm(page, *who)  # then the letter as a caller reads it, and the count to confirm
    page.wait_for_selector("#letter-preview")
    page.click("#send-letters")
    page.wait_for_selector(".flash-success")

    make_stale(page, app, email)  # one company's accounts suspended
    page.goto(f"{base}/operator/contain")
    page.select_option("#f-tenant-s", value=slug)
    page.click("form[action$='/suspend'] button")
    confirm(page, *who)
    page.wait_for_selector(".flash-success")

    make_stale(page, app, email)  # one company's passwords reset
    page.goto(f"{base}/operator/contain")
    page.select_option("#f-tenant-r", value=slug)
    page.click("form[action$='/reset-passwords'] button")
    confirm(page, *who)
    page.wait_for_selector(".flash-success")
