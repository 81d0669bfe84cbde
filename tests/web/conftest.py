"""Web fixtures: `app` (once on SQLite, once on PostgreSQL), `client`, `auth`, `uow`.

`auth.login(email, password, totp_secret=None)` goes through the real login pages (with
CSRF tokens), `auth.reauth(password, totp_secret)` through the re-authentication page,
`auth.logout()` through the logout form. Accounts come from `tests.web.accounts.make_account`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tests.web.accounts import build_app, totp_code

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The admin site in test mode on a fresh migrated database (SQLite and PostgreSQL)."""
    application = build_app(db_url, tmp_path / "data")
    yield application
    application.extensions["pbx"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def uow(app: Flask) -> Callable[[], AbstractContextManager[Session]]:
    """`with uow() as s:` a committed unit of work on the app's database."""
    return app.extensions["pbx"].unit_of_work  # type: ignore[no-any-return]


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on the page at `path` (this client's session)."""
    page = client.get(path)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} (status {page.status_code})"
    return match.group(1)


class AuthActions:
    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app = app
        self.client = client
        self.email: str | None = None

    def login(
        self,
        email: str,
        password: str,
        totp_secret: str | None = None,
        *,
        expect_success: bool = True,
    ) -> TestResponse:
        """Sign in through /login (and /login/code when a secret is given)."""
        self.email = email
        data = {
            "email": email,
            "password": password,
            "csrf_token": csrf_token(self.client, "/login"),
        }
        response = self.client.post("/login", data=data)
        if totp_secret and response.headers.get("Location", "").endswith("/login/code"):
            code = totp_code(self.app, email, totp_secret)
            token = csrf_token(self.client, "/login/code")
            response = self.client.post("/login/code", data={"code": code, "csrf_token": token})
        if expect_success:
            assert self.signed_in(), f"login of {email} failed: {response.get_data(as_text=True)}"
        return response

    def signed_in(self) -> bool:
        return self.client.get("/account/sessions").status_code == 200

    def reauth(self, password: str, totp_secret: str, next: str = "/") -> TestResponse:
        """Password + code on the re-authentication page (for `reauth_required` views);
        the response redirects to `next`, or (when a form post was waiting for it) is the
        page that makes that post (issue 16 item 6)."""
        assert self.email, "log in first"
        code = totp_code(self.app, self.email, totp_secret)
        token = csrf_token(self.client, "/reauth")
        data = {"password": password, "code": code, "csrf_token": token, "next": next}
        response = self.client.post("/reauth", data=data)
        waiting = response.status_code == 200 and 'id="reauth-continue"' in response.text
        assert response.status_code == 302 or waiting, response.get_data(as_text=True)
        return response

    def logout(self) -> TestResponse:
        return self.client.post("/logout", data={"csrf_token": csrf_token(self.client, "/login")})


@pytest.fixture
def auth(app: Flask, client: FlaskClient) -> AuthActions:
    return AuthActions(app, client)
