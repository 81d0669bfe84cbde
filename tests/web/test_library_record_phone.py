"""The record page when the user has a real phone: "Initiera samtal" hands the call to the SIP
front (it rings the registered phone), the page says so and the browser softphone stays
quiet; without a registered phone the softphone rings as before (test_library_softphone)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pbx.services.calls import phone_callbacks
from pbx.services.common.actor import SYSTEM
from pbx.services.people import phones
from storage.models import LiveCall, User
from tests.web.library_data import Studio, post

pytest_plugins = ["tests.web.library_fixtures"]


def test_initiate_call_goes_to_the_registered_phone(
    app: Flask, studio_admin: FlaskClient, studio: Studio
) -> None:
    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as session:
        admin = session.get(User, studio.admin.id)
        assert admin is not None
        admin.extension = admin.extension or "201"
        extension = admin.extension
        box = phones.secret_box(runtime.settings.require_secret_key())
        phones.issue_credentials(session, box, SYSTEM, admin)
        account = phones.account_by_user(session, admin.id)
        assert account is not None
        contact = phones.Contact(admin.id, "sip:me@127.0.0.1:5099", "udp", "127.0.0.1", 5099)
        phones.register(session, account, contact, 600, "baresip")

    started = post(studio_admin, f"/library/{studio.lost}/record", {"number": extension})
    assert started.status_code == 302
    page = studio_admin.get(started.headers["Location"]).get_data(as_text=True)

    assert "din registrerade telefon" in page and 'data-on-phone="1"' in page
    assert "data-watch=" not in page  # the browser softphone does not ring
    assert studio_admin.get("/softphone/incoming").get_json() == {"call": None}
    with runtime.unit_of_work() as session:
        call = session.scalar(select(LiveCall))
        assert call is not None and call.status == phone_callbacks.DIALLING
