"""Fixtures of the message library's web tests (tests/web/test_library_*.py declare them with
`pytest_plugins`). Names are kept apart from the site's fixtures: `studio` and `rival_studio`
are two companies (see library_data.py); `studio_admin` / `studio_user` sign the test client in
as the studio's admin or user through the real login pages.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pbx.services.library import messages as library
from storage.models import MessageSlot
from tests.library_media import offline_tts
from tests.web.conftest import AuthActions
from tests.web.library_data import Studio, build_studio, lose_blob


@pytest.fixture
def studio(app: Flask) -> Studio:
    app.extensions["pbx_tts"] = offline_tts()  # the real engines; only the internet is away
    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as session:
        made = build_studio(session, runtime.blobs(session), 1)
        lost = session.get(MessageSlot, made.lost)
        sha = library.versions(session, runtime.blobs(session), lost)[0].version.blob_sha256
    lose_blob(app, sha)
    return made


@pytest.fixture
def rival_studio(app: Flask) -> Studio:
    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as session:
        return build_studio(session, runtime.blobs(session), 2)


@pytest.fixture
def studio_admin(auth: AuthActions, studio: Studio, client: FlaskClient) -> FlaskClient:
    auth.login(studio.admin.email, studio.admin.password, studio.admin.totp)
    return client


@pytest.fixture
def studio_user(auth: AuthActions, studio: Studio, client: FlaskClient) -> FlaskClient:
    auth.login(studio.user.email, studio.user.password, studio.user.totp)
    return client
