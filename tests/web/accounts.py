"""Test apps and usable accounts, made through the real services.

- `build_app(db_url, data_dir, **overrides)`: the admin site in test mode on that database
  (fast hash profile, fixed test secret key, in-memory rate limits unless `redis_url` given).
- `make_account(session, tenant, role="user", **overrides) -> (User, password, totp_secret)`:
  a user created like the CLI does, with a password set through the setup link, and TOTP
  enrolled (default: for operators and company admins; pass `totp=True/False` to choose).
  `password=` picks the password; other keyword arguments go to `tests.builders.make_user`.
- `totp_code(app, email, secret)`: a code the server has not accepted yet, waiting for the
  next 30-second step when needed (a person waits for the app's next code the same way).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_web.app import create_app
from pbx.config import Settings, load_settings
from pbx.security.totp import Totp
from pbx.services.accounts import core as accounts
from pbx.services.accounts import totp as accounts_totp
from pbx.services.accounts.core import AccountsConfig
from pbx.services.common.actor import SYSTEM
from storage.models import Tenant, User
from tests.builders import make_user

TEST_SECRET_KEY = "test-only-secret-key-" + secrets.token_hex(24)
PUBLIC_URL = "http://localhost"
# Letters and digits that spell none of the context words ("pbx", "vaxel", …).
_ALPHABET = "acdefghjkmnqrstuwyz23456789"


def test_settings(db_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "mode": "test",
        "data_dir": str(data_dir),
        "database_url": db_url,
        "secret_key": TEST_SECRET_KEY,
        "password_hash_profile": "test-only-fast",
        "public_url": PUBLIC_URL,
    }
    values.update(overrides)
    return load_settings(environ={}, overrides=values)


def build_app(db_url: str, data_dir: Path, **overrides: Any) -> Flask:
    return create_app(test_settings(db_url, data_dir, **overrides))


@contextmanager
def demo_site(db_url: str, data_dir: Path) -> Iterator[Flask]:
    """The site as `pbx demo` serves it: PBX_MODE=demo, the demo companies loaded."""
    from fixtures.demo import load_demo  # speech and pictures: only the tests that need it

    application = build_app(db_url, data_dir, mode="demo")
    load_demo(application.extensions["pbx"], calls_per_day=2)
    try:
        yield application
    finally:
        application.extensions["pbx"].close()


def accounts_config() -> AccountsConfig:
    return AccountsConfig.from_settings(test_settings("sqlite://", Path(".")))


def strong_password() -> str:
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(6)) for _ in range(4))


def make_account(
    session: Session,
    tenant: Tenant | None,
    role: str = "user",
    *,
    totp: bool | None = None,
    password: str | None = None,
    **overrides: Any,
) -> tuple[User, str, str | None]:
    """A usable account: (user, password, TOTP secret or None)."""
    config = accounts_config()
    user = make_user(session, tenant, role=role, **overrides)
    link = accounts.issue_link(session, config, SYSTEM, user, "setup")
    password = password or strong_password()
    accounts.complete_link(session, config, link.rsplit("/", 1)[1], password)
    secret = None
    if totp if totp is not None else accounts.totp_required(user):
        secret = enrol_totp(session, config, user)
    return user, password, secret


def enrol_totp(session: Session, config: AccountsConfig, user: User) -> str:
    """Enrol with the previous step's code, so the current step is free for a login."""
    now = datetime.now(UTC)
    secret = accounts_totp.offer(user).secret
    code = Totp.code_at(secret, now.timestamp() - Totp.INTERVAL)
    accounts_totp.confirm(session, config, SYSTEM, user, secret, code, now=now)
    return secret


def totp_code(app: Flask, email: str, secret: str) -> str:
    """The earliest code the server will still accept for this account."""
    with app.extensions["pbx"].unit_of_work() as s:
        last = s.scalar(select(User.totp_last_step).where(User.email == email))
    current = Totp.time_step(time.time())
    step = current if last is None else max(current, last + 1)
    while step > Totp.time_step(time.time()) + 1:
        time.sleep(0.2)
    return Totp.code_at(secret, step * Totp.INTERVAL)
