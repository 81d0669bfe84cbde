"""Changing the secret key (SECURITY.md 6, 15): a TOTP secret that no key decrypts is a clear
refusal and a logged error, never a 500; with the old key in `secret_key_fallbacks` everyone
still signs in, and their secret is re-encrypted with the new key on use."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from pbx.security.secretbox import SecretBox
from storage.models import AuditEvent, User
from tests.builders import make_tenant
from tests.web.accounts import TEST_SECRET_KEY, build_app, make_account
from tests.web.conftest import AuthActions

NEW_KEY = "rotated-secret-key-" + secrets.token_hex(24)


def _account(app: Flask) -> tuple[User, str, str]:
    with app.extensions["pbx"].unit_of_work() as s:
        user, password, secret = make_account(s, make_tenant(s), role="company_admin")
    assert secret is not None
    return user, password, secret


def _stored(app: Flask, user_id: int) -> str:
    with app.extensions["pbx"].unit_of_work() as s:
        token = s.scalar(select(User.totp_secret_enc).where(User.id == user_id))
    assert token is not None
    return token


def _rebuilt(app: Flask, db_url: str, tmp_path: Path, **overrides: object) -> Flask:
    return build_app(db_url, tmp_path / "data", secret_key=NEW_KEY, **overrides)


def test_an_undecryptable_secret_is_a_clear_refusal_and_a_logged_error(
    app: Flask, db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    user, password, secret = _account(app)
    other = _rebuilt(app, db_url, tmp_path)  # the key changed, the old one forgotten
    try:
        auth = AuthActions(other, other.test_client())
        with caplog.at_level(logging.ERROR, logger="pbx.services.accounts.totp"):
            response = auth.login(user.email, password, secret, expect_success=False)
        assert response.status_code == 200
        # the site speaks Swedish by default
        assert "kan inte kontrolleras på den här servern" in response.get_data(as_text=True)
        assert not auth.signed_in()
        assert any(f"user {user.id}" in r.getMessage() for r in caplog.records)
        assert secret not in caplog.text
        with other.extensions["pbx"].unit_of_work() as s:
            refused = s.scalars(
                select(AuditEvent.new).where(AuditEvent.action == "login.refused")
            ).all()
        assert {"step": "totp", "reason": "totp_unreadable"} in refused
    finally:
        other.extensions["pbx"].close()


def test_an_old_key_in_the_fallbacks_still_signs_in_and_is_re_encrypted(
    app: Flask, db_url: str, tmp_path: Path
) -> None:
    user, password, secret = _account(app)
    before = _stored(app, user.id)
    other = _rebuilt(app, db_url, tmp_path, secret_key_fallbacks=[TEST_SECRET_KEY])
    try:
        AuthActions(other, other.test_client()).login(user.email, password, secret)
        after = _stored(other, user.id)
        assert after != before
        assert SecretBox(NEW_KEY).decrypt(after, f"user:{user.id}") == secret
    finally:
        other.extensions["pbx"].close()
