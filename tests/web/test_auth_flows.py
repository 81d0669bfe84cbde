"""The login pages end to end (Flask test client): one message for every failure, TOTP
enrolment on first login and after a forced reset, the recovery-code path, re-binding TOTP
only after re-authentication, owners notified (SECURITY.md 4–12, 16–17)."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pbx.security.totp import Totp
from pbx.services.accounts import admin as accounts_admin
from pbx.services.accounts import totp as accounts_totp
from pbx.services.accounts.core import find_by_email
from pbx.services.common.actor import SYSTEM
from storage.models import AuditEvent, OutboxMessage, utcnow
from tests.builders import make_tenant, make_user
from tests.web.accounts import accounts_config, make_account, strong_password
from tests.web.conftest import AuthActions, csrf_token


def _post(client: FlaskClient, path: str, **data: str):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, path)})


def _flash(response) -> list[str]:
    return re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', response.get_data(as_text=True))


def test_unknown_account_and_wrong_password_look_the_same(
    client: FlaskClient, uow, app: Flask
) -> None:
    with uow() as s:
        user, password, _ = make_account(s, make_tenant(s))
        suspended, spw, _ = make_account(s, make_tenant(s))
        accounts_admin.suspend_user(s, SYSTEM, suspended)
    answers = [
        _post(client, "/login", email=email, password=pw)
        for email, pw in (
            ("nobody@nowhere.se", password),
            (user.email, password + "x"),
            (suspended.email, spw),
        )
    ]
    assert {a.status_code for a in answers} == {200}
    assert len({tuple(_flash(a)) for a in answers}) == 1
    assert _flash(answers[0]) and "Inloggningen misslyckades" in _flash(answers[0])[0]
    with uow() as s:
        actions = list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-3:] == ["login.failed", "login.failed", "login.refused"]


def test_wrong_totp_code_is_the_same_message_and_counted(client: FlaskClient, uow) -> None:
    with uow() as s:
        user, password, secret = make_account(s, make_tenant(s), role="company_admin")
    _post(client, "/login", email=user.email, password=password)
    response = _post(client, "/login/code", code="000000")
    assert "Inloggningen misslyckades" in _flash(response)[0]
    with uow() as s:
        assert find_by_email(s, user.email).failed_logins == 1


def test_back_off_after_five_failures_on_the_page(client: FlaskClient, uow, auth) -> None:
    with uow() as s:
        user, password, _ = make_account(s, make_tenant(s))
    for _ in range(5):
        _post(client, "/login", email=user.email, password="wrong wrong wrong wrong")
    refused = _post(client, "/login", email=user.email, password=password)
    assert refused.status_code == 200 and not auth.signed_in()


def test_first_login_of_an_admin_enrols_totp(client: FlaskClient, uow, auth) -> None:
    with uow() as s:
        user, password, _ = make_account(s, make_tenant(s), role="company_admin", totp=False)
    response = _post(client, "/login", email=user.email, password=password)
    assert response.location.endswith("/login/enrol")
    page = client.get("/login/enrol")
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]{32})<', html).group(1)
    assert "<svg" in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    done = client.post(
        "/login/enrol", data={"code": Totp.code_at(secret, utcnow()), "csrf_token": token}
    )
    assert (
        len(re.findall(r"<li><code>[0-9A-Z-]{14}</code></li>", done.get_data(as_text=True))) == 10
    )
    assert auth.signed_in()


def test_forced_reset_then_link_then_enrol_for_an_admin(
    client: FlaskClient, uow, auth: AuthActions, app: Flask
) -> None:
    with uow() as s:
        user, password, _ = make_account(s, make_tenant(s), role="company_admin")
        accounts_totp.reset_for_user(s, SYSTEM, user)
        link = accounts_admin.force_reset_user(s, accounts_config(), SYSTEM, user).link
    refused = _post(client, "/login", email=user.email, password=password)
    assert refused.location.endswith("/account/forgot-password")
    assert client.get(link.removeprefix("http://localhost")).location.endswith("/account/password")
    weak = _post(
        client, "/account/password", new_password="lösenord", new_password_again="lösenord"
    )
    assert any("15" in m for m in _flash(weak))
    new = strong_password()
    _post(client, "/account/password", new_password=new, new_password_again=new)
    assert client.get(link.removeprefix("http://localhost")).status_code == 302
    assert client.get("/account/password").status_code == 410  # the link worked once
    response = _post(client, "/login", email=user.email, password=new)
    assert response.location.endswith("/login/enrol")  # required for the role


def test_recovery_code_path(client: FlaskClient, uow, auth: AuthActions) -> None:
    with uow() as s:
        user, password, _ = make_account(s, make_tenant(s), role="company_admin")
        codes = accounts_totp.renew_recovery_codes(s, SYSTEM, user)
    _post(client, "/login", email=user.email, password=password)
    response = _post(client, "/login/recovery", code=codes[0])
    assert response.status_code == 302 and auth.signed_in()
    with uow() as s:
        kinds = list(s.scalars(select(OutboxMessage.kind).where(OutboxMessage.user_id == user.id)))
    assert "recovery_code_used" in kinds


def test_rebinding_totp_needs_full_reauthentication(client: FlaskClient, uow, auth) -> None:
    with uow() as s:
        user, password, secret = make_account(s, make_tenant(s), role="company_admin")
    auth.login(user.email, password, secret)
    with client.session_transaction() as sess:
        sess["reauth_at"] -= 301
    response = client.get("/account/two-factor/enrol")
    assert response.status_code == 302 and "/reauth" in response.location
    auth.reauth(password, secret)
    assert client.get("/account/two-factor/enrol").status_code == 200


def test_disabling_totp_needs_reauthentication(client: FlaskClient, uow, auth) -> None:
    with uow() as s:
        user, password, secret = make_account(s, make_tenant(s), totp=True)
    auth.login(user.email, password, secret)
    with client.session_transaction() as sess:
        sess["reauth_at"] -= 301
    token = csrf_token(client, "/account/two-factor")
    response = client.post("/account/two-factor/disable", data={"csrf_token": token})
    assert "/reauth" in response.location
    with uow() as s:
        assert find_by_email(s, user.email).totp_secret_enc is not None


def test_user_enrols_optional_totp_with_password(client: FlaskClient, uow, auth) -> None:
    with uow() as s:
        user, password, _ = make_account(s, make_tenant(s))
    auth.login(user.email, password)
    html = client.get("/account/two-factor/enrol").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]{32})<', html).group(1)
    code = Totp.code_at(secret, utcnow())
    wrong = _post(client, "/account/two-factor/enrol", password="not it", code=code)
    assert wrong.status_code == 200 and "recovery-codes" not in wrong.get_data(as_text=True)
    ok = _post(client, "/account/two-factor/enrol", password=password, code=code)
    assert "recovery-codes" in ok.get_data(as_text=True)
    assert auth.signed_in()


def test_owner_is_notified_after_credential_changes(client: FlaskClient, uow, auth) -> None:
    with uow() as s:
        user, password, secret = make_account(s, make_tenant(s), role="company_admin")
    auth.login(user.email, password, secret)
    new = strong_password()
    _post(
        client,
        "/account/change-password",
        current=password,
        new_password=new,
        new_password_again=new,
    )
    with uow() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.user_id == user.id)).all()
    kinds = [r.kind for r in rows]
    assert kinds == ["setup_link", "password_changed", "totp_enrolled", "password_changed"]
    assert all(r.to_address == user.email for r in rows)
    assert password not in rows[-1].body and new not in rows[-1].body


def test_forgot_password_answers_alike_and_sends_a_link(client: FlaskClient, uow) -> None:
    with uow() as s:
        user = make_user(s, make_tenant(s))
    answers = []
    for email in (user.email, "nobody@nowhere.se"):
        response = _post(client, "/account/forgot-password", email=email)
        answers.append((response.location, _flash(client.get(response.location))))
    assert answers[0] == answers[1] and answers[0][1]
    with uow() as s:
        kinds = list(s.scalars(select(OutboxMessage.kind).where(OutboxMessage.user_id == user.id)))
    assert kinds == ["reset_link"]
