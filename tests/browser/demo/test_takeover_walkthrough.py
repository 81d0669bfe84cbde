"""The account takeover played in the demo site and recovered in the browser (issue 16 items
2–3), as the three roles: the operator plays it, the fraud scan contains the account, the
attacker's forwarding changes are undone, the affected callers are exported and their letter
previewed; the company's admin is led from the start page to the victim's forwarding; the
victim chooses a new password and finds their forwarding as it was before the attack; the
operator lifts the suspension and the company's pages are clear again."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select

from admin_web.incident_demos.breach_context import ATTACKER_IP, FRAUD_NUMBER, VICTIMS
from pbx.incident import callers
from pbx.services.common.scope import tenant_by_slug
from pbx.services.fraud.suspension import open_block
from pbx.services.routing import forwarding
from storage.models import AuditEvent, FraudAlert, OutboxMessage, User
from tests.browser.conftest import screenshot
from tests.browser.library_browser import sign_in
from tests.browser.reauth_browser import confirm, confirm_download, make_stale
from tests.web.accounts import make_account, strong_password

pytestmark = pytest.mark.browser

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SLUG = "bergstrom-bygg"  # the company walked through: Erik Lindqvist's
RAW = re.compile(r"\b(unconditional|no_answer|busy|unavailable|intl_legs_\w+|forwarding_\w+)\b")
FRAUD_CALLERS = {f"+4673{7000000 + i:07d}" for i in range(20)}  # the played fraud calls


def affected_callers_form(page: Any, base: str, since: str, until: str) -> None:
    """The affected-callers page filled in for the company and the attack's days."""
    page.goto(f"{base}/operator/affected-callers")
    page.check(f"input[name=tenants][value={SLUG}]")
    page.fill("#f-since", since)
    page.fill("#f-until", until)


def rules_of(app: Flask, user_id: int) -> dict[str, tuple[str, bool]]:
    with app.extensions["pbx"].unit_of_work() as s:
        return {r.kind: (r.destination, r.active) for r in forwarding.rules_of(s, user_id)}


def attack_window(app: Flask) -> tuple[str, str]:
    """The Stockholm days from the attacker's first change to today (ISO dates)."""
    with app.extensions["pbx"].unit_of_work() as s:
        first = s.scalar(
            select(func.min(AuditEvent.occurred_at)).where(AuditEvent.ip == ATTACKER_IP)
        )
    assert first is not None
    today = datetime.now(STOCKHOLM).date()
    return first.astimezone(STOCKHOLM).date().isoformat(), today.isoformat()


def visible(page: Any) -> str:
    text = str(page.inner_text("#content"))
    assert not RAW.search(text), RAW.search(text)
    return text


def test_takeover_played_contained_reverted_and_recovered(  # type: ignore[no-untyped-def]
    app: Flask, live_server: str, browser_page: Any
):
    page, base = browser_page, live_server
    with app.extensions["pbx"].unit_of_work() as s:
        op, op_pw, op_totp = make_account(s, None, role="operator")
        tenant = tenant_by_slug(s, SLUG)
        admin, ad_pw, ad_totp = make_account(s, tenant, role="company_admin", extension="9901")
        erik = s.scalar(select(User).where(User.email == VICTIMS[0]))
        assert erik is not None and op_totp and ad_totp
        op_email, admin_email, erik_id, tenant_id = op.email, admin.email, erik.id, tenant.id
    before = rules_of(app, erik_id)  # as the victim left it: no answer → a colleague
    operator = (app, op_email, op_pw, op_totp)

    # The operator plays the takeover; the fraud scan finds it and contains the account.
    sign_in(page, app, base, op_email, op_pw, op_totp)
    page.goto(f"{base}/operator/")
    page.click("#play-incident")
    page.click("#play-breach button[type=submit]")
    page.wait_for_selector(".flash-success:has-text('Kontokapningen är uppspelad')")
    assert ATTACKER_IP in page.inner_text(".flash-success")
    assert rules_of(app, erik_id)["unconditional"][0] == FRAUD_NUMBER
    assert VICTIMS[0] in page.inner_text("#suspended-forwarding")  # the call-time cap
    screenshot(page, "demo-takeover-played")
    page.click("form[action$='/operator/scan'] button")
    page.wait_for_selector(".flash-success:has-text('Kontrollen är klar')")
    assert "1 konto stoppat" in page.inner_text(".flash-success")
    page.goto(f"{base}/")
    assert "bedrägerilarm" in page.inner_text("#start-facts")
    page.click("#start-facts a[href$='/operator/']")
    page.select_option("#f-status", value="contained")
    page.click("form.searchbar button[type=submit]")
    contained = page.locator("table.alerts tbody tr", has_text=VICTIMS[0])
    assert contained.count() >= 1 and "stoppad automatiskt" in contained.first.inner_text()
    assert "utlandssamtal" in page.inner_text("#suspended-forwarding")  # the reason in words
    visible(page)
    screenshot(page, "demo-takeover-contained")
    with app.extensions["pbx"].unit_of_work() as s:
        statuses = s.scalars(select(FraudAlert.status).where(FraudAlert.user_id == erik_id))
        assert "contained" in set(statuses) and open_block(s, erik_id) is not None
    assert "unconditional" not in rules_of(app, erik_id)  # the containment put it back

    # The attacker's forwarding changes in the window, ticked and undone in one action.
    since, until = attack_window(app)
    page.goto(f"{base}/operator/forwarding")
    page.fill("#f-since", since)
    page.fill("#f-until", until)
    page.fill("#f-ip", ATTACKER_IP)
    page.click("form.filters button[type=submit]")
    changes = page.locator("input[name=event_id]")
    assert changes.count() == 2  # Erik's abroad, Elin's probe at the other company
    assert FRAUD_NUMBER in visible(page)
    for i in range(changes.count()):
        changes.nth(i).check()
    make_stale(page, app, op_email)
    page.click("form:has(input[name=event_id]) button[type=submit]")
    confirm(page, *operator)
    page.wait_for_selector(".flash-success:has-text('återställd')")  # 1 regel återställd
    assert page.input_value("#f-ip") == ATTACKER_IP  # back to the same filtered list
    screenshot(page, "demo-takeover-reverted")
    assert rules_of(app, erik_id) == before
    with app.extensions["pbx"].unit_of_work() as s:
        elin = s.scalar(select(User).where(User.email == VICTIMS[1]))
        assert elin is not None and forwarding.find_rule(s, elin.id, "busy") is None

    # The affected callers of the company: a CSV of callers, then the letter and its count.
    affected_callers_form(page, base, since, until)
    make_stale(page, app, op_email)
    page.click("button[formaction$='/affected-callers']")
    rows = list(csv.reader(io.StringIO(confirm_download(page, *operator))))[1:]
    numbers = {row[0] for row in rows}
    assert FRAUD_CALLERS <= numbers
    assert all(re.fullmatch(r"\+\d{7,15}", n) for n in numbers), numbers
    with app.extensions["pbx"].unit_of_work() as s:
        own = callers.own_numbers(s, [tenant_id])
    fields = {cell.strip() for row in rows for cell in row}
    assert not own & fields, own & fields  # no company number, extension or staff mobile
    affected_callers_form(page, base, since, until)
    make_stale(page, app, op_email)
    page.click("button[formaction$='/letters']")
    confirm(page, *operator)
    page.wait_for_selector("#letter-preview")
    assert f"Brevet går till {len(rows)} uppringare" in page.inner_text("#letter-confirm")
    assert page.locator("#send-letters").count() == 1  # previewed, not sent
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "demo-takeover-letters")

    # The company's admin: the start page names the victim and leads to their forwarding.
    admin_page = page.context.browser.new_context(
        locale="sv-SE", timezone_id="Europe/Stockholm"
    ).new_page()
    sign_in(admin_page, app, base, admin_email, ad_pw, ad_totp)
    facts = admin_page.inner_text("#start-facts")
    assert "bedrägerilarm" in facts
    blocked = admin_page.inner_text(f"#blocked-forwarding-{erik_id}")
    assert "avstängd för Erik Lindqvist" in blocked and "utlandssamtal" in blocked
    visible(admin_page)
    screenshot(admin_page, "demo-takeover-admin-start")
    admin_page.click(f"#blocked-forwarding-{erik_id} a")
    assert admin_page.url == f"{base}/users/{erik_id}/forwarding"
    assert "avstängd sedan" in admin_page.inner_text("#forwarding-blocked")
    assert "Inte vidarekopplat" in admin_page.inner_text("#fwd-unconditional .current")
    assert "Nu: 103" in admin_page.inner_text("#fwd-no_answer .current")
    assert FRAUD_NUMBER not in visible(admin_page)
    screenshot(admin_page, "demo-takeover-admin-forwarding")

    # The victim: signed out by the containment, chooses a new password through the link
    # sent to them, and finds their forwarding as it was before the attack.
    victim_page = page.context.browser.new_context(
        locale="sv-SE", timezone_id="Europe/Stockholm"
    ).new_page()
    victim_page.goto(base + reset_link(app, VICTIMS[0]))
    new_password = strong_password()
    victim_page.fill("#new_password", new_password)
    victim_page.fill("#new_password_again", new_password)
    victim_page.click("#set-password-form button[type=submit]")
    victim_page.wait_for_selector(".flash-success")
    sign_in(victim_page, app, base, VICTIMS[0], new_password, None)
    victim_page.goto(f"{base}/")
    mine = victim_page.inner_text("#start-facts")
    assert "Vidarekoppling: Vid ej svar → 103" in mine and FRAUD_NUMBER not in mine
    assert "Alltid" not in mine
    visible(victim_page)
    screenshot(victim_page, "demo-takeover-victim-start")
    victim_page.goto(f"{base}/me/forwarding")
    assert "Inte vidarekopplat" in victim_page.inner_text("#fwd-unconditional .current")
    assert "Nu: 103" in victim_page.inner_text("#fwd-no_answer .current")
    assert "avstängd sedan" in victim_page.inner_text("#forwarding-blocked")
    visible(victim_page)
    screenshot(victim_page, "demo-takeover-victim-forwarding")

    # Reviewed: the operator lifts the suspension; the company's pages are clear again.
    make_stale(page, app, op_email)
    page.goto(f"{base}/operator/")
    page.click(f"#suspended-forwarding form:has(input[name=user_id][value='{erik_id}']) button")
    confirm(page, *operator)
    page.wait_for_selector(".flash-success:has-text('påslagen igen')")
    victim_page.reload()
    assert victim_page.locator("#forwarding-blocked").count() == 0
    assert "Nu: 103" in victim_page.inner_text("#fwd-no_answer .current")
    admin_page.goto(f"{base}/")
    assert admin_page.locator(".blocked-forwarding").count() == 0
    assert rules_of(app, erik_id) == before
    admin_page.context.close()
    victim_page.context.close()


def reset_link(app: Flask, email: str) -> str:
    """The path of the newest password link mailed to `email` (the containment's reset)."""
    with app.extensions["pbx"].unit_of_work() as s:
        bodies = s.scalars(
            select(OutboxMessage.body)
            .where(OutboxMessage.to_address == email)
            .order_by(OutboxMessage.id.desc())
        )
        for body in bodies:
            found = re.search(r"/account/password/[\w-]+", body)
            if found:
                return found.group(0)
    raise AssertionError(f"no password link was sent to {email}")
