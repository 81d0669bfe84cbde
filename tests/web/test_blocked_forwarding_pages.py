"""A user's suspended outside forwarding as the company sees it: the admin's start page names
the user, the reason in words and links to the user's forwarding; the forwarding page (the
admin's and the user's own) says it is suspended and why, until the operator lifts it."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from pbx.incident.containment import lift_block
from pbx.services.common.actor import SYSTEM
from pbx.services.fraud.reasons import Reason
from pbx.services.fraud.suspension import suspend_forwarding
from pbx.services.routing import forwarding
from storage.models import User, utcnow
from tests.web.conftest import AuthActions
from tests.web.site_data import Company

pytest_plugins = ["tests.web.site_fixtures"]
WORDS = "20 utlandssamtal på en timme från en användare (gränsen är 15)"


def _suspend(app: Flask, company: Company) -> None:
    with app.extensions["pbx"].unit_of_work() as s:
        user = s.get(User, company.user.id)
        assert user is not None
        forwarding.set_forwarding(s, SYSTEM, user, kind="unconditional", destination="+46701112233")
        reason = Reason("intl_legs_user_hour", 20, "legs", 15)
        suspend_forwarding(s, SYSTEM, user, str(reason), None, utcnow() - timedelta(minutes=5))


def test_the_admin_start_page_names_the_blocked_user_and_where_to_go(
    app: Flask, as_admin: FlaskClient, company: Company
) -> None:
    assert 'class="blocked-forwarding"' not in as_admin.get("/").text
    _suspend(app, company)
    home = as_admin.get("/").text
    line = home.split(f'id="blocked-forwarding-{company.user.id}"')[1].split("</li>")[0]
    assert "Vidarekoppling till externa nummer är avstängd för" in line and WORDS in line
    assert f'href="/users/{company.user.id}/forwarding"' in line
    assert "intl_legs_user_hour" not in home
    page = as_admin.get(f"/users/{company.user.id}/forwarding").text
    notice = page.split('id="forwarding-blocked"')[1].split("</p>")[0]
    assert "avstängd sedan" in notice and WORDS in notice and "operatören" in notice
    with app.extensions["pbx"].unit_of_work() as s:
        lift_block(s, SYSTEM, s.get(User, company.user.id))
    assert "blocked-forwarding" not in as_admin.get("/").text
    assert "forwarding-blocked" not in as_admin.get(f"/users/{company.user.id}/forwarding").text


def test_the_user_sees_their_own_forwarding_suspended(
    app: Flask, client: FlaskClient, company: Company
) -> None:
    _suspend(app, company)
    AuthActions(app, client).login(company.user.email, company.user.password, company.user.totp)
    page = client.get("/me/forwarding").text
    assert WORDS in page.split('id="forwarding-blocked"')[1].split("</p>")[0]
    assert "(av)" in page  # the rule the block switched off
