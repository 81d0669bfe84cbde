"""Issue 16 item 13's small things: personal greetings are not offered as callers' prompts,
the pictures page says "Bild saknas", the TTS preview says why there is nothing to hear, a
person changing their own forwarding is told "Du har fått besked", /favicon.ico exists and
"Ditt konto" opens the account page."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from pbx.services.common.actor import SYSTEM
from pbx.services.people import voicemail
from storage.models import User
from tests.web.conftest import AuthActions
from tests.web.site_data import Company, post

pytest_plugins = ["tests.web.site_fixtures"]


def test_personal_greetings_are_not_offered_as_prompts(
    app: Flask, as_admin: FlaskClient, company: Company
) -> None:
    with app.extensions["pbx"].unit_of_work() as s:
        greeting = voicemail.greeting_slot(s, SYSTEM, s.get(User, company.user.id))
        greeting_id = greeting.id
    pages = (
        f"/ivr/{company.menu_id}",
        f"/queues/{company.queue_id}",
        f"/numbers/{company.number_id}",
    )
    for path in pages:
        html = as_admin.get(path).get_data(as_text=True)
        offered = "".join(re.findall(r'<select[^>]*slot_id"[^>]*>(.*?)</select>', html, re.S))
        assert f'value="{company.slot_ok}"' in offered, path
        assert f'value="{greeting_id}"' not in offered, path


def test_pictures_page_says_picture_missing(as_admin: FlaskClient) -> None:
    html = as_admin.get("/pictures/").get_data(as_text=True)
    assert "Bild saknas" in html and "Ljud saknas" not in html


def test_tts_preview_shows_why_there_is_nothing_to_hear(
    as_admin: FlaskClient, company: Company
) -> None:
    page = as_admin.get(f"/library/{company.slot_ok}/edit?preview=1&text=%20%21&language=sv")
    html = page.get_data(as_text=True)
    assert 'id="tts-preview-problem"' in html and 'id="tts-preview-audio"' not in html
    fine = as_admin.get(f"/library/{company.slot_ok}/edit?preview=1&text=Hej&language=sv")
    assert 'id="tts-preview-audio"' in fine.get_data(as_text=True)


def test_tts_preview_of_the_greeting_shows_the_problem(
    app: Flask, client: FlaskClient, company: Company
) -> None:
    with app.extensions["pbx"].unit_of_work() as s:
        voicemail.greeting_slot(s, SYSTEM, s.get(User, company.user.id))  # a mailbox to show
    AuthActions(app, client).login(company.user.email, company.user.password, company.user.totp)
    html = client.get("/my/voicemail/?preview=1&text=&language=sv").get_data(as_text=True)
    assert 'id="tts-preview-problem"' in html and 'id="greeting-tts-save"' not in html


def test_own_forwarding_says_you_have_been_told(as_user: FlaskClient) -> None:
    data = {"kind": "busy", "destination": "100", "ring_seconds": "20", "active": "on"}
    response = post(as_user, "/me/forwarding", {**data, "action": "save"})
    assert response.status_code == 302
    assert "Du har fått besked." in as_user.get("/me/forwarding").get_data(as_text=True)


def test_favicon_and_account_page(client: FlaskClient, as_admin: FlaskClient) -> None:
    icon = as_admin.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    icon.close()
    home = as_admin.get("/").get_data(as_text=True)
    assert '<a href="/account/">Ditt konto</a>' in home
    account = as_admin.get("/account/").get_data(as_text=True)
    for path in ("/account/change-password", "/account/two-factor", "/account/sessions"):
        assert f'href="{path}"' in account, path
