"""SECURITY.md 13–14: rotating session identity, fresh session on login, timeouts.

A copied session cookie (a stolen one) must stop working after a password change, a
password reset, a suspension, a TOTP change and "sign out everywhere"."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from pbx.security.totp import Totp
from pbx.services.accounts import admin as accounts_admin
from pbx.services.accounts.core import find_by_email
from pbx.services.common.actor import SYSTEM
from storage.models import UserSession, utcnow
from tests.builders import make_tenant
from tests.web.accounts import accounts_config, make_account, strong_password
from tests.web.conftest import AuthActions, csrf_token

COOKIE = "vaxel"


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding the same session cookie (a stolen copy)."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, client.get_cookie(COOKIE).value, domain="localhost")
    return thief


def signed_in(client: FlaskClient) -> bool:
    return client.get("/account/sessions").status_code == 200


def set_sessions(uow, user_id: int, **values) -> None:
    """Move the clocks of every browser session of the account (as time passing would)."""
    with uow() as s:
        s.execute(update(UserSession).where(UserSession.user_id == user_id).values(**values))


@pytest.fixture
def admin(uow) -> tuple:
    with uow() as s:
        return make_account(s, make_tenant(s), role="company_admin")


def _change_password(auth: AuthActions, password: str, secret: str) -> None:
    new = strong_password()
    token = csrf_token(auth.client, "/account/change-password")
    data = {"current": password, "new_password": new, "new_password_again": new}
    response = auth.client.post("/account/change-password", data={**data, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


def _sign_out_everywhere(auth: AuthActions, password: str, secret: str) -> None:
    token = csrf_token(auth.client, "/account/sessions")
    auth.client.post("/account/sign-out-everywhere", data={"csrf_token": token})


def _suspend(auth: AuthActions, password: str, secret: str) -> None:
    with auth.app.extensions["pbx"].unit_of_work() as s:
        user = find_by_email(s, auth.email)
        accounts_admin.suspend_user(s, SYSTEM, user)
        accounts_admin.unsuspend_user(s, SYSTEM, user)  # back again: the old cookie stays dead


def _forced_reset(auth: AuthActions, password: str, secret: str) -> None:
    with auth.app.extensions["pbx"].unit_of_work() as s:
        user = find_by_email(s, auth.email)
        accounts_admin.force_reset_user(s, accounts_config(), SYSTEM, user)


def _new_totp(auth: AuthActions, password: str, secret: str) -> None:
    auth.reauth(password, secret)
    page = auth.client.get("/account/two-factor/enrol").get_data(as_text=True)
    new_secret = page.split('id="totp-secret">')[1].split("<")[0]
    code = Totp.code_at(new_secret, utcnow())
    token = csrf_token(auth.client, "/account/two-factor")
    response = auth.client.post(
        "/account/two-factor/enrol", data={"code": code, "csrf_token": token}
    )
    assert "recovery-codes" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "change",
    [_change_password, _sign_out_everywhere, _suspend, _forced_reset, _new_totp],
    ids=["password-change", "sign-out-everywhere", "suspension", "forced-reset", "totp-change"],
)
def test_copied_cookie_dies(
    app: Flask, client: FlaskClient, auth: AuthActions, admin: tuple, change: Callable
) -> None:
    user, password, secret = admin
    auth.login(user.email, password, secret)
    thief = copy_of(app, client)
    assert signed_in(thief)
    change(auth, password, secret)
    assert not signed_in(thief)


def test_logout_kills_the_copied_cookie_too(
    app: Flask, client: FlaskClient, auth: AuthActions, admin: tuple
) -> None:
    user, password, secret = admin
    auth.login(user.email, password, secret)
    thief = copy_of(app, client)
    auth.logout()
    assert not signed_in(client) and not signed_in(thief)


def test_login_starts_a_fresh_session(client: FlaskClient, auth: AuthActions, admin: tuple) -> None:
    user, password, secret = admin
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"  # session fixation attempt
    auth.login(user.email, password, secret)
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"] != str(user.id)  # identity is the rotating token, not the key


def test_session_identity_is_the_rotating_token(
    uow, client: FlaskClient, auth: AuthActions
) -> None:
    with uow() as s:
        user, password, _ = make_account(s, make_tenant(s))
    auth.login(user.email, password)
    with uow() as s:
        token = find_by_email(s, user.email).session_token
    with client.session_transaction() as sess:
        assert sess["_user_id"] == token


@pytest.mark.parametrize(
    "column, age, expected",
    [
        ("last_seen_at", timedelta(minutes=29), True),
        ("last_seen_at", timedelta(minutes=31), False),
        ("created_at", timedelta(hours=11, minutes=59), True),
        ("created_at", timedelta(hours=12, minutes=1), False),
    ],
)
def test_idle_and_absolute_timeouts(
    uow, client: FlaskClient, auth: AuthActions, admin: tuple, column: str, age, expected: bool
) -> None:
    user, password, secret = admin
    auth.login(user.email, password, secret)
    set_sessions(uow, user.id, **{column: utcnow() - age})
    assert signed_in(client) is expected


def test_no_remember_me_cookie(client: FlaskClient, auth: AuthActions, admin: tuple) -> None:
    user, password, secret = admin
    auth.login(user.email, password, secret)
    assert client.get_cookie("remember_token") is None
    assert {c.key for c in client._cookies.values()} == {COOKIE}


def test_sessions_page_lists_and_ends_one(app: Flask, auth: AuthActions, admin: tuple) -> None:
    user, password, secret = admin
    other = AuthActions(app, app.test_client())
    other.login(user.email, password, secret)
    auth.login(user.email, password, secret)
    page = auth.client.get("/account/sessions").get_data(as_text=True)
    assert page.count("<tr>") == 3  # header + two sessions
    with app.extensions["pbx"].unit_of_work() as s:
        first = min(r.id for r in s.query(UserSession).filter_by(user_id=user.id))
    token = csrf_token(auth.client, "/account/sessions")
    auth.client.post(f"/account/sessions/{first}/end", data={"csrf_token": token})
    assert not signed_in(other.client) and signed_in(auth.client)


def test_a_page_view_moves_the_idle_clock_on(
    uow, client: FlaskClient, auth: AuthActions, admin: tuple
) -> None:
    user, password, secret = admin
    auth.login(user.email, password, secret)
    set_sessions(uow, user.id, last_seen_at=utcnow() - timedelta(minutes=25))
    assert signed_in(client)
    with uow() as s:
        seen = s.scalar(select(UserSession.last_seen_at).where(UserSession.user_id == user.id))
    assert utcnow() - seen < timedelta(minutes=1)
    # ...so 25 more idle minutes later the session is still alive (it would not be
    # without the touch: 50 minutes since the last recorded view).
    set_sessions(uow, user.id, last_seen_at=seen - timedelta(minutes=25))
    assert signed_in(client)


def test_concurrent_page_views_and_writes_never_fail(app: Flask, uow) -> None:
    """Several browsers of a company load pages while other connections commit writes.
    Each view is due a last-seen update; none may fail with "database is locked" (on
    SQLite a read that then writes in the same transaction would, once another
    connection committed in between)."""
    with uow() as s:
        tenant = make_tenant(s)
        accounts = [make_account(s, tenant, role="company_admin") for _ in range(4)]
    browsers = []
    for user, password, secret in accounts:
        browser = AuthActions(app, app.test_client())
        browser.login(user.email, password, secret)
        browsers.append((user, browser.client))
    failures: list[str] = []

    def browse(user_id: int, browser: FlaskClient) -> None:
        for _ in range(12):
            # Another connection's write, between this browser's views.
            set_sessions(uow, user_id, last_seen_at=utcnow() - timedelta(minutes=2))
            status = browser.get("/account/sessions").status_code
            if status != 200:
                failures.append(f"user {user_id}: {status}")

    threads = [threading.Thread(target=browse, args=(u.id, c)) for u, c in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
