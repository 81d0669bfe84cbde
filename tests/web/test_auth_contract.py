"""The decorators others build on: login_required, roles_required, reauth_required."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient

from admin_web.auth import current_account, current_actor, reauth_required, roles_required
from tests.builders import make_tenant
from tests.web.accounts import build_app, make_account
from tests.web.conftest import AuthActions


@pytest.fixture
def guarded(db_url: str, tmp_path) -> Flask:
    """An app with three extra views, registered the way features register theirs."""
    app = build_app(db_url, tmp_path)
    bp = Blueprint("guarded", __name__)

    @bp.get("/t/admin")
    @roles_required("company_admin", "operator")
    def admin_only() -> str:
        return f"{current_actor().role}:{current_account().email}"

    @bp.get("/t/sensitive")
    @reauth_required
    def sensitive() -> str:
        return "sensitive ok"

    app.register_blueprint(bp)
    yield app
    app.extensions["pbx"].close()


def test_signed_out_goes_to_login_and_back(guarded: Flask) -> None:
    response = guarded.test_client().get("/t/admin")
    assert response.status_code == 302
    assert unquote(response.location) == "/login?next=/t/admin"


def test_wrong_role_is_403(guarded: Flask) -> None:
    client = guarded.test_client()
    auth = AuthActions(guarded, client)
    with guarded.extensions["pbx"].unit_of_work() as s:
        user, password, _ = make_account(s, make_tenant(s))
    auth.login(user.email, password)
    assert client.get("/t/admin").status_code == 403


def test_actor_and_account_of_the_signed_in_admin(guarded: Flask) -> None:
    client = guarded.test_client()
    auth = AuthActions(guarded, client)
    with guarded.extensions["pbx"].unit_of_work() as s:
        user, password, secret = make_account(s, make_tenant(s), role="company_admin")
    auth.login(user.email, password, secret)
    assert client.get("/t/admin").get_data(as_text=True) == f"company_admin:{user.email}"


def test_reauth_required_redirects_then_allows(guarded: Flask) -> None:
    client = guarded.test_client()
    auth = AuthActions(guarded, client)
    with guarded.extensions["pbx"].unit_of_work() as s:
        user, password, secret = make_account(s, make_tenant(s), role="company_admin")
    auth.login(user.email, password, secret)
    assert client.get("/t/sensitive").status_code == 200  # password + TOTP just now
    with client.session_transaction() as sess:
        sess["reauth_at"] = sess["reauth_at"] - 301  # more than 5 minutes ago
    response = client.get("/t/sensitive")
    assert response.status_code == 302
    assert unquote(response.location) == "/reauth?next=/t/sensitive"
    back = auth.reauth(password, secret, next="/t/sensitive")
    assert back.location == "/t/sensitive"
    assert client.get("/t/sensitive").get_data(as_text=True) == "sensitive ok"


def test_roles_required_refuses_unknown_roles() -> None:
    with pytest.raises(ValueError):
        roles_required("admin")


def test_signed_in_user_without_totp_is_sent_to_enrol_for_reauth(
    auth: AuthActions, client: FlaskClient, uow
) -> None:
    with uow() as s:
        user, password, _ = make_account(s, make_tenant(s))
    auth.login(user.email, password)
    response = client.get("/reauth?next=/account/sessions")
    assert response.status_code == 302 and "/account/two-factor" in response.location
