"""Mina inställningar / Telefon: registered phones, new SIP credentials shown once (after
re-authentication, never cached), and the admins' view of their users' phones."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from pbx.services.people import phones
from pbx.services.people.phones import Contact
from storage.models import AuditEvent, OutboxMessage, SipAccount, User
from tests.web.accounts import TEST_SECRET_KEY, make_account
from tests.web.conftest import AuthActions
from tests.web.site_data import Company, csrf, stale_reauth

pytest_plugins = ["tests.web.site_fixtures"]
PASSWORD = re.compile(r'id="sip-password">([^<]+)<')


def issue(client, path: str, form_page: str):
    return client.post(path, data={"csrf_token": csrf(client, form_page)})


def register_phone(app: Flask, user_id: int, agent: str) -> None:
    with app.extensions["pbx"].unit_of_work() as s:
        user = s.get(User, user_id)
        account = phones.account_of(s, user)
        if account is None:
            phones.issue_credentials(s, phones.secret_box(TEST_SECRET_KEY), _self(user), user)
            account = phones.account_of(s, user)
        contact = Contact(user_id, f"sip:{user.extension}@127.0.0.1:5062", "udp", "127.0.0.1", 5062)
        phones.register(s, account, contact, 600, agent)


def _self(user: User):
    from pbx.services.common.actor import Actor

    return Actor(user.id, user.email, user.role, user.tenant_id)


def stored_password(app: Flask, username: str) -> str | None:
    with app.extensions["pbx"].unit_of_work() as s:
        found = phones.password_for(s, phones.secret_box(TEST_SECRET_KEY), username)
        return found[1] if found else None


def test_the_page_says_no_phone_is_registered_and_is_never_cached(as_user) -> None:
    page = as_user.get("/my/phone")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    text = page.text
    assert "Ingen telefon är registrerad just nu." in text
    assert "Skapa nya uppgifter" in text and "Inga telefonuppgifter ännu." in text
    assert "Server 127.0.0.1, port 5060 (UDP och TCP), realm vaxel." in text


def test_the_menu_links_the_page_under_my_settings(as_user) -> None:
    assert 'href="/my/phone"' in as_user.get("/my/voicemail/").text


def test_new_credentials_are_shown_once_with_ready_configurations(
    app: Flask, as_user, company: Company
) -> None:
    made = issue(as_user, "/my/phone/credentials", "/my/phone")
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    text = made.text
    password = PASSWORD.search(text).group(1)
    username = "webb-1-101"
    assert f'id="sip-username">{username}<' in text
    assert stored_password(app, username) == password  # what the phone needs, encrypted
    assert f"&lt;sip:{username}@127.0.0.1:5060;transport=udp&gt;;auth_pass={password}" in text
    assert "<svg" in text and 'id="sip-qr"' in text  # QR rendered here, not by a service
    assert "Domän" in text and "127.0.0.1:5060" in text  # Linphone's fields
    again = as_user.get("/my/phone").text
    assert password not in again and username in again  # never shown again
    with app.extensions["pbx"].unit_of_work() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "phone.credentials"))
        assert event.actor_user_id == company.user.id and password not in str(event.new)
        told = s.scalars(select(OutboxMessage).where(OutboxMessage.user_id == company.user.id))
        assert any(m.kind == "phone_credentials" for m in told)


def test_asking_again_makes_the_old_password_stop_working(app: Flask, as_user) -> None:
    first = PASSWORD.search(issue(as_user, "/my/phone/credentials", "/my/phone").text).group(1)
    second = PASSWORD.search(issue(as_user, "/my/phone/credentials", "/my/phone").text).group(1)
    assert first != second and stored_password(app, "webb-1-101") == second


def test_new_credentials_need_recent_reauthentication(
    app: Flask, as_user, auth: AuthActions, company: Company
) -> None:
    stale_reauth(as_user)
    response = issue(as_user, "/my/phone/credentials", "/my/phone")
    assert response.status_code == 302 and "/reauth" in response.headers["Location"]
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.scalar(select(SipAccount)) is None
    auth.reauth(company.user.password, company.user.totp, next="/my/phone")
    assert PASSWORD.search(issue(as_user, "/my/phone/credentials", "/my/phone").text)


def test_the_credentials_form_needs_the_csrf_token(app: Flask, as_user) -> None:
    assert as_user.post("/my/phone/credentials").status_code == 400
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.scalar(select(SipAccount)) is None


def test_a_registered_phone_is_shown_with_its_user_agent(
    app: Flask, as_user, company: Company
) -> None:
    register_phone(app, company.user.id, "baresip v1.0.0 (x86_64/linux)")
    text = as_user.get("/my/phone").text
    assert "Registrerad" in text and "baresip v1.0.0 (x86_64/linux)" in text
    assert "UDP 127.0.0.1:5062" in text


def test_a_user_without_an_extension_is_told_why(app: Flask, auth: AuthActions, company) -> None:
    with app.extensions["pbx"].unit_of_work() as s:
        from storage.models import Tenant

        tenant = s.get(Tenant, company.tenant_id)
        user, password, secret = make_account(s, tenant, "user", extension=None, totp=True)
    auth.login(user.email, password, secret)
    page = auth.client.get("/my/phone")
    assert page.status_code == 200 and "Du har ingen anknytning" in page.text
    assert "Skapa nya uppgifter" not in page.text
    refused = auth.client.post(
        "/my/phone/credentials", data={"csrf_token": csrf(auth.client, "/my/voicemail/")}
    )
    assert refused.status_code == 400 and "Du har ingen anknytning" in refused.text
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.scalar(select(SipAccount)) is None


def test_admins_see_who_has_a_registered_phone(app: Flask, as_admin, company: Company) -> None:
    register_phone(app, company.user.id, "Linphone/5.2")
    page = as_admin.get("/users/").text
    assert f'href="/users/{company.user.id}/phone">Registrerad</a>' in page
    assert f'href="/users/{company.other_admin.id}/phone"' not in page
    assert "Linphone/5.2" in as_admin.get(f"/users/{company.user.id}/phone").text
    assert f'/users/{company.user.id}/phone"' in as_admin.get(f"/users/{company.user.id}").text


def test_an_admin_issues_credentials_for_a_user_who_is_told(
    app: Flask, as_admin, company: Company
) -> None:
    page = f"/users/{company.user.id}/phone"
    made = issue(as_admin, f"{page}/credentials", page)
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    password = PASSWORD.search(made.text).group(1)
    assert stored_password(app, "webb-1-101") == password
    assert "har fått besked" in made.text
    with app.extensions["pbx"].unit_of_work() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "phone.credentials"))
        assert event.actor_user_id == company.admin.id
        assert event.target_id == str(company.user.id)
        kinds = s.scalars(
            select(OutboxMessage.kind).where(OutboxMessage.user_id == company.user.id)
        )
        assert "phone_credentials" in set(kinds)


def test_another_companys_user_is_not_found(
    app: Flask, as_admin, company: Company, rival: Company
) -> None:
    page = f"/users/{rival.user.id}/phone"
    assert as_admin.get(page).status_code == 404
    token = csrf(as_admin, "/my/phone")
    assert as_admin.post(f"{page}/credentials", data={"csrf_token": token}).status_code == 404
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.scalar(select(SipAccount)) is None


def test_a_user_cannot_open_a_colleagues_phone(as_user, company: Company) -> None:
    page = f"/users/{company.other_admin.id}/phone"
    assert as_user.get(page).status_code == 403
    token = csrf(as_user, "/my/phone")
    assert as_user.post(f"{page}/credentials", data={"csrf_token": token}).status_code == 403


def test_the_route_walker_covers_the_admins_phone_routes(app: Flask) -> None:
    """So the tenant-isolation and CSRF walks try them with another company's ids."""
    from tests.web.route_walk import object_rules, unplaceable

    walked = {(rule.rule, method) for rule in object_rules(app) for method in rule.methods or ()}
    assert ("/users/<user_id>/phone", "GET") in walked
    assert ("/users/<user_id>/phone/credentials", "POST") in walked
    assert unplaceable(app) == []
