"""Fixtures of the site's web tests (imported by tests/web/test_site_*.py).

`company` and `rival` are two companies on the app's database (SQLite and PostgreSQL, as
the `app` fixture is); `as_admin` / `as_user` sign the test client in through the real login
pages.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.conftest import AuthActions
from tests.web.site_data import Company, build_company


@pytest.fixture
def company(app: Flask) -> Company:
    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as session:
        return build_company(session, runtime.blobs(session), 1)


@pytest.fixture
def rival(app: Flask) -> Company:
    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as session:
        return build_company(session, runtime.blobs(session), 2)


@pytest.fixture
def as_admin(auth: AuthActions, company: Company, client: FlaskClient) -> FlaskClient:
    auth.login(company.admin.email, company.admin.password, company.admin.totp)
    return client


@pytest.fixture
def as_user(auth: AuthActions, company: Company, client: FlaskClient) -> FlaskClient:
    auth.login(company.user.email, company.user.password, company.user.totp)
    return client
