"""SECURITY.md 15 and 19: CSRF on every state-changing route (walked from the URL map),
state changes only through POST, cookie flags, security headers, no start without a key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf.csrf import CSRFError
from sqlalchemy import func, select

from admin_web.app import create_app
from pbx.config import ConfigError, load_settings
from storage.models import User
from tests.builders import make_tenant
from tests.web.accounts import build_app, make_account
from tests.web.conftest import AuthActions, csrf_token
from tests.web.route_walk import STATE_CHANGING

# GET must never change anything; a GET endpoint named like an action would be a bug.
ACTION_WORDS = re.compile(
    r"(delete|remove|suspend|reset|logout|sign_out|export|disable|end_session|unlock|reveal)"
)


def _fill(rule) -> str:
    values = {arg: "1" for arg in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


@pytest.fixture
def operator_client(app: Flask, uow) -> FlaskClient:
    # Tell a CSRF refusal apart from any other 400 (registered before the first request).
    app.register_error_handler(CSRFError, lambda exc: ("refused: CSRF", 400))
    with uow() as s:
        user, password, secret = make_account(s, None, role="operator")
    client = app.test_client()
    auth = AuthActions(app, client)
    auth.login(user.email, password, secret)
    auth.reauth(password, secret)
    return client


def test_every_state_changing_route_needs_the_csrf_token(
    app: Flask, operator_client: FlaskClient
) -> None:
    checked, unprotected = 0, []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & STATE_CHANGING):
            response = operator_client.open(_fill(rule), method=method, data={"x": "1"})
            checked += 1
            if (response.status_code, response.data) != (400, b"refused: CSRF"):
                unprotected.append(f"{method} {rule.rule} -> {response.status_code}")
    assert checked > 10 and unprotected == []
    assert operator_client.get("/account/sessions").status_code == 200  # still signed in


def test_a_wrong_csrf_token_is_refused_too(app: Flask, operator_client: FlaskClient) -> None:
    csrf_token(operator_client, "/account/sessions")
    other = app.test_client()
    stolen = csrf_token(other, "/login")  # a valid token of another session
    response = operator_client.post("/logout", data={"csrf_token": stolen})
    assert (response.status_code, response.data) == (400, b"refused: CSRF")
    assert operator_client.get("/account/sessions").status_code == 200


def test_get_routes_are_not_actions(app: Flask) -> None:
    offenders = [
        f"{rule.rule} ({rule.endpoint})"
        for rule in app.url_map.iter_rules()
        if not ((rule.methods or set()) & STATE_CHANGING) and ACTION_WORDS.search(rule.endpoint)
    ]
    assert offenders == []


def test_session_cookie_flags_over_http(client: FlaskClient, auth: AuthActions, uow) -> None:
    with uow() as s:
        user, password, _ = make_account(s, make_tenant(s))
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": password,
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("vaxel=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_https_gives_secure_host_prefixed_cookie_and_hsts(db_url: str, tmp_path: Path) -> None:
    app = build_app(db_url, tmp_path, public_url="https://vaxel.example")
    client = app.test_client()
    page = client.get("/login", base_url="https://localhost")
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("__Host-vaxel=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    app.extensions["pbx"].close()


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    script = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP: no HSTS
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script(client: FlaskClient) -> None:
    for path in ("/login", "/account/forgot-password"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
        assert not re.search(r"\son[a-z]+=", html)


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = {"PBX_DATA_DIR": str(tmp_path), "PBX_MODE": "production"}
    with pytest.raises(ConfigError, match="PBX_SECRET_KEY"):
        create_app(load_settings(env))
    with pytest.raises(ConfigError, match="PBX_SECRET_KEY"):
        create_app(load_settings({**env, "PBX_SECRET_KEY": "short"}))


def test_no_default_accounts_after_migration(app: Flask, uow) -> None:
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0
