"""Login with password and TOTP, the recovery-code path, logout (SECURITY.md 6–14)."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.builders import make_tenant
from tests.web.accounts import make_account
from tests.web.conftest import AuthActions


def test_user_without_totp_signs_in_with_password(auth: AuthActions, uow) -> None:
    with uow() as s:
        user, password, secret = make_account(s, make_tenant(s))
    assert secret is None
    auth.login(user.email, password)
    auth.logout()
    assert not auth.signed_in()


def test_admin_signs_in_with_password_and_code(auth: AuthActions, client: FlaskClient, uow) -> None:
    with uow() as s:
        user, password, secret = make_account(s, make_tenant(s), role="company_admin")
    response = auth.login(user.email, password, secret)
    assert response.status_code == 302
    assert client.get("/audit").status_code == 200
