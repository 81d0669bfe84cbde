"""Organisation / company settings, Säkerhet / allowed countries, the operator's company
choice, and the menu (sections per role, the language switch)."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from storage.models import AuditEvent, Tenant
from tests.web.accounts import make_account
from tests.web.conftest import AuthActions
from tests.web.site_data import Company, post, stale_reauth

pytest_plugins = ["tests.web.site_fixtures"]


def tenant(app: Flask, tenant_id: int) -> Tenant:
    with app.extensions["pbx"].unit_of_work() as s:
        return s.get(Tenant, tenant_id)


def test_retention_is_saved_and_validated(app, as_admin, company: Company) -> None:
    assert post(as_admin, "/company/", {"calllog_retention_days": "30"}).status_code == 302
    assert tenant(app, company.tenant_id).calllog_retention_days == 30
    for bad in ("0", "x", ""):
        response = post(as_admin, "/company/", {"calllog_retention_days": bad})
        assert response.status_code == 422 and "field-error" in response.text, bad
    assert tenant(app, company.tenant_id).calllog_retention_days == 30


def test_adding_a_country_needs_reauthentication(app, as_admin, auth, company) -> None:
    stale_reauth(as_admin)
    response = post(as_admin, "/company/countries", {"countries": "no, fi"})
    assert response.status_code == 302 and "/reauth" in response.headers["Location"]
    assert tenant(app, company.tenant_id).allowed_countries == []
    auth.reauth(company.admin.password, company.admin.totp)
    back = as_admin.get("/company/countries?countries=FI+NO")
    assert 'value="FI NO"' in back.text
    assert post(as_admin, "/company/countries", {"countries": "FI NO"}).status_code == 302
    assert tenant(app, company.tenant_id).allowed_countries == ["FI", "NO"]
    stale_reauth(as_admin)
    # removing one needs no re-authentication
    assert post(as_admin, "/company/countries", {"countries": "NO"}).status_code == 302
    assert tenant(app, company.tenant_id).allowed_countries == ["NO"]
    with app.extensions["pbx"].unit_of_work() as s:
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "tenant.allowed_countries")
        )
        assert len(list(events)) == 2


def test_countries_are_named_beside_their_codes(app, as_admin, auth, company) -> None:
    """Issue 16 item 7: 'NO – Norge' (Babel's names, in the page's language)."""
    auth.reauth(company.admin.password, company.admin.totp)
    assert post(as_admin, "/company/countries", {"countries": "NO FI"}).status_code == 302
    page = as_admin.get("/company/countries").text
    assert "<li>FI – Finland</li><li>NO – Norge</li>" in page and "SE – Sverige" in page
    assert "FI – Finland, NO – Norge" in as_admin.get("/company/").text
    post(as_admin, "/language", {"lang": "en", "next": "/"}, "/company/")
    assert "<li>NO – Norway</li>" in as_admin.get("/company/countries").text


def test_bad_country_codes_are_refused(app, as_admin, company: Company) -> None:
    for bad in ("XX", "SE", "Norge"):
        response = post(as_admin, "/company/countries", {"countries": bad})
        assert response.status_code == 422 and "field-error" in response.text, bad


def test_users_get_403(as_user, company: Company) -> None:
    data = {"countries": "NO"}
    assert post(as_user, "/company/countries", data, "/me/forwarding").status_code == 403
    assert (
        post(as_user, "/company/", {"calllog_retention_days": "1"}, "/me/forwarding").status_code
        == 403
    )


def test_operator_chooses_a_company(app, client, company: Company, rival: Company) -> None:
    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as s:
        operator, password, secret = make_account(s, None, "operator")
        email = operator.email
    AuthActions(app, client).login(email, password, secret)
    assert client.get("/users/").headers["Location"].endswith("/company/choose")
    assert post(client, "/company/choose", {"tenant_id": str(rival.tenant_id)}).status_code == 302
    page = client.get("/users/").text
    assert rival.user.email in page and company.user.email not in page
    assert post(client, "/company/choose", {"tenant_id": "999999"}).status_code == 404
    assert client.get("/calls/").status_code == 403  # call logs are the company's own


def test_menu_shows_sections_by_role(as_admin, company: Company) -> None:
    page = as_admin.get("/users/").text
    for label in ("Organisation", "Samtalslista", "Säkerhet", "Mina inställningar", "Knappval"):
        assert label in page, label
    assert 'aria-current="page"' in page


def test_menu_marks_the_page_it_is_on(as_admin, company: Company) -> None:
    for path in ("/users/", "/calls/", "/users/"):  # the menu is kept per page: not mixed up
        current = re.findall(r'<a href="([^"]+)" aria-current="page"', as_admin.get(path).text)
        assert current == [path], path


def test_user_menu_has_no_organisation(as_user, company: Company) -> None:
    page = as_user.get("/me/forwarding").text
    assert "Mina inställningar" in page and "Knappval" not in page


def test_language_switch(as_admin, company: Company) -> None:
    assert "Användare" in as_admin.get("/users/").text
    post(as_admin, "/language", {"lang": "en", "next": "/users/"}, "/users/")
    page = as_admin.get("/users/").text
    assert "Users" in page and "My settings" in page and 'lang="en"' in page
