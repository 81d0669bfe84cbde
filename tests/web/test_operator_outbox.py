"""Utkorgen (issue 16 item 14): operators see what was queued (to, subject, when, sent or
not); only in the demo site is a new user's setup link shown, so a first login can be tried."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.accounts import build_app
from tests.web.site_data import Company, build_company, post
from tests.web.test_site_issue17 import operator_client

pytest_plugins = ["tests.web.site_fixtures"]

NEW_USER = {"name": "Nisse Ny", "email": "nisse.ny@example.se", "extension": "", "role": "user"}


@pytest.fixture
def demo_app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = build_app(db_url, tmp_path / "data", mode="demo")
    yield application
    application.extensions["pbx"].close()


def add_user(client: FlaskClient) -> None:
    assert post(client, "/users/new", NEW_USER).status_code == 302


def test_operators_see_what_was_queued_but_no_links(app: Flask, company: Company) -> None:
    client = operator_client(app, company)
    add_user(client)
    html = client.get("/operator/outbox/").text
    row = html[html.index('id="outbox"') :]
    assert "nisse.ny@example.se" in row and "Välkommen till växeln" in row
    assert "Inte skickat" in row and "Utkorg" in html
    assert "/account/password/" not in html and "setup-link" not in html


def test_the_demo_site_shows_the_setup_link_and_the_first_login_works(demo_app: Flask) -> None:
    runtime = demo_app.extensions["pbx"]
    with runtime.unit_of_work() as s:
        company = build_company(s, runtime.blobs(s), 1)
    client = operator_client(demo_app, company)
    add_user(client)
    html = client.get("/operator/outbox/").text
    link = re.search(r'class="setup-link" href="([^"]+)"', html)
    assert link is not None and "/account/password/" in link.group(1)
    path = link.group(1)[link.group(1).index("/account/password/") :]
    first_login = demo_app.test_client().get(path, follow_redirects=True)
    assert first_login.status_code == 200 and 'type="password"' in first_login.text


def test_the_outbox_is_for_operators_only(as_admin: FlaskClient) -> None:
    assert as_admin.get("/operator/outbox/").status_code == 403
