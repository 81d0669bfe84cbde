"""Organisation / Användare: list and search, create with a setup link, edit, and the account
actions (suspend, unsuspend, forced reset, sessions) through the accounts services."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from storage.models import AuditEvent, OutboxMessage, User
from tests.web.conftest import AuthActions
from tests.web.site_data import Company, post, stale_reauth

pytest_plugins = ["tests.web.site_fixtures"]


def load(app: Flask, user_id: int) -> User:
    with app.extensions["pbx"].unit_of_work() as s:
        return s.get(User, user_id)


def test_list_and_search(as_admin, company: Company, rival: Company) -> None:
    page = as_admin.get("/users/").text
    assert company.user.email in page and rival.user.email not in page
    found = as_admin.get("/users/?q=" + company.user.email.split("@")[0]).text
    assert company.user.email in found and company.other_admin.email not in found
    assert "matchar" in as_admin.get("/users/?q=nobody-at-all").text


def test_list_shows_each_persons_picture(as_admin, company: Company) -> None:
    page = as_admin.get("/users/").text
    src = f'src="/media/users/{company.user.id}/picture"'
    assert src in page
    picture = as_admin.get(f"/media/users/{company.user.id}/picture")
    # No upload yet: the initials placeholder, served as an image all the same.
    assert picture.status_code == 200 and picture.mimetype.startswith("image/")


def test_create_sends_a_setup_link(app, as_admin, company: Company) -> None:
    data = {"name": "Nya Nisse", "email": "nisse@example.se", "extension": "150", "role": "user"}
    response = post(as_admin, "/users/new", data)
    assert response.status_code == 302
    with app.extensions["pbx"].unit_of_work() as s:
        user = s.scalar(select(User).where(User.email == "nisse@example.se"))
        assert user.tenant_id == company.tenant_id and user.password_hash is None
        link = s.scalar(select(OutboxMessage).where(OutboxMessage.user_id == user.id))
        assert "/account/password/" in link.body


def test_create_shows_field_errors_and_stores_nothing(app, as_admin, company: Company) -> None:
    cases = [
        ({"email": "not-an-email"}, "f-email"),
        ({"extension": "333"}, "f-extension"),
        ({"extension": "101"}, "f-extension"),  # taken
        ({"email": company.user.email}, "f-email"),  # in use
        ({"mobile": "07012"}, "f-mobile"),
    ]
    for override, field in cases:
        data = {"name": "X", "email": "x@example.se", "extension": "", "role": "user", **override}
        response = post(as_admin, "/users/new", data)
        assert response.status_code == 422, override
        html = response.text
        assert f'id="{field}"' in html and 'aria-invalid="true"' in html, override
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.scalar(select(User).where(User.email == "x@example.se")) is None


def test_edit_extension_mobile_and_role(app, as_admin, company: Company) -> None:
    path = f"/users/{company.user.id}"
    data = {
        "name": "Ny Namn",
        "extension": "171",
        "mobile": "+46 70 111 22 33",
        "role": "company_admin",
    }
    assert post(as_admin, path, data).status_code == 302
    user = load(app, company.user.id)
    assert (user.extension, user.mobile, user.role) == ("171", "+46701112233", "company_admin")
    with app.extensions["pbx"].unit_of_work() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "user.update"))
        assert event.old["extension"] == "101" and event.new["role"] == "company_admin"


def test_edit_errors_are_422_and_nothing_changes(app, as_admin, company: Company) -> None:
    path = f"/users/{company.user.id}"
    for override in ({"extension": "100"}, {"extension": "0"}, {"role": "operator"}, {"name": ""}):
        data = {"name": "N", "extension": "101", "mobile": "", "role": "user", **override}
        assert post(as_admin, path, data).status_code == 422, override
    assert load(app, company.user.id).extension == "101"


def test_users_cannot_edit(app, as_user, company: Company) -> None:
    data = {"name": "Hacker", "extension": "101", "mobile": "", "role": "company_admin"}
    response = post(as_user, f"/users/{company.user.id}", data, form_page="/me/forwarding")
    assert response.status_code == 403
    assert load(app, company.user.id).role == "user"


def test_rival_user_is_404(app, as_admin, rival: Company) -> None:
    data = {"name": "X", "extension": "201", "mobile": "", "role": "user"}
    response = post(as_admin, f"/users/{rival.user.id}", data, form_page="/users/")
    assert response.status_code == 404
    for action in ("suspend", "reset-password"):
        assert post(as_admin, f"/users/{rival.user.id}/{action}", {}, "/users/").status_code == 404
    assert load(app, rival.user.id).status == "active"


def test_suspend_unsuspend_and_forced_reset(app, as_admin, company: Company) -> None:
    base = f"/users/{company.user.id}"
    assert post(as_admin, f"{base}/suspend", {}, base).status_code == 302
    assert load(app, company.user.id).status == "suspended"
    assert post(as_admin, f"{base}/unsuspend", {}, base).status_code == 302
    assert load(app, company.user.id).status == "active"
    assert post(as_admin, f"{base}/reset-password", {}, base).status_code == 302
    assert load(app, company.user.id).must_change_password is True


def test_sessions_are_listed_and_ended(app, as_admin, company: Company) -> None:
    other = app.test_client()
    AuthActions(app, other).login(company.user.email, company.user.password, company.user.totp)
    page = as_admin.get(f"/users/{company.user.id}/sessions")
    assert page.status_code == 200
    session_id = re.search(r"/sessions/(\d+)/end", page.text).group(1)
    path = f"/users/{company.user.id}/sessions/{session_id}/end"
    assert post(as_admin, path, {}, f"/users/{company.user.id}/sessions").status_code == 302
    assert other.get("/me/forwarding").status_code == 302  # signed out


def test_admin_cannot_suspend_themselves(app, as_admin, company: Company) -> None:
    base = f"/users/{company.admin.id}"
    assert post(as_admin, f"{base}/suspend", {}, base).status_code == 403
    assert load(app, company.admin.id).status == "active"


def test_csrf_is_required(app, as_admin, company: Company) -> None:
    assert as_admin.post(f"/users/{company.user.id}/suspend").status_code == 400
    assert (
        as_admin.post("/users/new", data={"name": "X", "email": "y@example.se"}).status_code == 400
    )
    assert load(app, company.user.id).status == "active"


def test_a_new_mobile_needs_reauth_the_number_rules_and_tells_the_owner(
    app, as_admin, auth: AuthActions, company: Company
) -> None:
    """Whoever sets a user's mobile reaches that user's voicemail: re-authentication
    (SECURITY.md 16), the mobile-number rules, and the owner is told (SECURITY.md 17)."""
    path = f"/users/{company.user.id}"
    before = load(app, company.user.id).mobile
    base = {"name": "N", "extension": "101", "role": "user", "mobile_reason": ""}
    stale_reauth(as_admin)
    stale = post(as_admin, path, {**base, "mobile": "+46701119999"})
    assert stale.status_code == 302 and "/reauth" in stale.headers["Location"]
    assert load(app, company.user.id).mobile == before
    refused = (
        "+46900123456",  # Swedish premium rate
        "+46771234567",  # Swedish shared cost
        "+4781021234",  # Norwegian shared cost
        "+881612345678",  # satellite
        "+46851234567",  # a fixed line is not a mobile
        "+4791234567",  # a foreign mobile without a reason
    )
    auth.reauth(company.admin.password, company.admin.totp)
    for number in refused:
        response = post(as_admin, path, {**base, "mobile": number})
        assert response.status_code == 422, number
        assert 'id="f-mobile"' in response.text and 'aria-invalid="true"' in response.text
    assert load(app, company.user.id).mobile == before
    assert post(as_admin, path, {**base, "mobile": "+46701119999"}).status_code == 302
    assert load(app, company.user.id).mobile == "+46701119999"
    abroad = {**base, "mobile": "+4791234567", "mobile_reason": "works in Oslo"}
    assert post(as_admin, path, abroad).status_code == 302
    assert load(app, company.user.id).mobile == "+4791234567"
    with app.extensions["pbx"].unit_of_work() as s:
        told = s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.user_id == company.user.id, OutboxMessage.kind == "mobile_changed"
            )
        ).all()
        assert len(told) == 2
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "user.update")).all()
        assert events[-1].new == {"mobile": "+4791234567", "mobile_reason": "works in Oslo"}


def test_the_company_decides_whether_333_asks_for_the_pin(
    app, as_admin, auth: AuthActions, company: Company
) -> None:
    """PIN by default; turning it off needs re-authentication, shows a warning, is audited."""
    page = as_admin.get("/company/").text
    assert "pin-off-warning" not in page
    on = {"trust_calling_number": "1"}
    stale_reauth(as_admin)
    stale = post(as_admin, "/company/voicemail-pin", on, form_page="/company/")
    assert "/reauth" in stale.headers["Location"]
    auth.reauth(company.admin.password, company.admin.totp)
    assert post(as_admin, "/company/voicemail-pin", on, form_page="/company/").status_code == 302
    assert "pin-off-warning" in as_admin.get("/company/").text
    assert post(as_admin, "/company/voicemail-pin", {}, form_page="/company/").status_code == 302
    with app.extensions["pbx"].unit_of_work() as s:
        actions = s.scalars(
            select(AuditEvent.new).where(
                AuditEvent.action == "tenant.voicemail_trust_calling_number"
            )
        ).all()
        assert actions == [
            {"voicemail_trust_calling_number": True},
            {"voicemail_trust_calling_number": False},
        ]
