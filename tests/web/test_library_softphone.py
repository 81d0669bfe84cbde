""" "Spela in filen" → "Initiera samtal" and the softphone's JSON protocol on the test client
(both databases): own number prefilled, other numbers refused, the call rings on the user's
softphone only, recordings are stored on hang-up, 333 from the softphone, and changing the
registered number needs re-authentication."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from storage.models import AuditEvent, MessageSlot, Tenant, User
from tests.library_media import encode, speech_wav
from tests.web.accounts import make_account
from tests.web.conftest import AuthActions
from tests.web.library_data import Studio, post, token_of

pytest_plugins = ["tests.web.library_fixtures"]


def event(client: FlaskClient, call: dict[str, Any], kind: str, digit: str = "",
          audio: bytes | None = None) -> dict[str, Any]:  # fmt: skip
    data: dict[str, Any] = {
        "event": kind,
        "digit": digit,
        "csrf_token": token_of(client, "/softphone/"),
    }
    if audio is not None:
        from io import BytesIO

        data["audio"] = (BytesIO(audio), "take.webm")
    response = client.post(call["events_url"], data=data, headers={"Accept": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["call"]  # type: ignore[no-any-return]


def test_the_record_page_prefills_your_number_and_shows_the_script(
    studio_admin: FlaskClient, studio: Studio
) -> None:
    html = studio_admin.get(f"/library/{studio.placed}/record").get_data(as_text=True)

    assert f'value="{studio.admin.mobile}"' in html and "+46735xxxxxx" in html
    assert "Välkommen!" in html and "Initiera samtal" in html and "Spela in filen" in html


def test_another_number_is_refused_and_nothing_rings(
    studio_admin: FlaskClient, studio: Studio
) -> None:
    response = post(studio_admin, f"/library/{studio.placed}/record", {"number": "+46701234567"})

    assert response.status_code == 422
    assert "ditt eget registrerade nummer" in response.get_data(as_text=True)
    assert studio_admin.get("/softphone/incoming").get_json() == {"call": None}


def test_initiate_call_rings_the_softphone_and_hanging_up_stores_the_recording(
    app: Flask, studio_admin: FlaskClient, studio: Studio
) -> None:
    started = post(
        studio_admin, f"/library/{studio.lost}/record", {"number": studio.admin.mobile or ""}
    )
    assert started.status_code == 302 and "call=" in started.headers["Location"]
    page = studio_admin.get(started.headers["Location"]).get_data(as_text=True)
    assert 'data-watch="' in page and "Nu ringer växeln upp" in page

    call = studio_admin.get("/softphone/incoming").get_json()["call"]
    assert call["status"] == "ringing" and call["steps"] == [{"do": "ring", "seconds": 30}]
    call = event(studio_admin, call, "answer")
    assert [s["do"] for s in call["steps"]] == ["play", "tone", "record", "timer"]
    prompt = studio_admin.get(call["steps"][0]["url"])
    assert prompt.status_code == 200 and prompt.mimetype == "audio/wav"
    call = event(studio_admin, call, "hangup", audio=encode(speech_wav(2.5), "webm"))

    assert (call["status"], call["outcome"]) == ("ended", "recorded")
    html = studio_admin.get("/library/").get_data(as_text=True)
    assert f'data-slot-id="{studio.lost}" data-status="ok"' in html
    assert "Inspelad via telefon" in html


def test_review_plays_the_take_back_before_it_is_stored(
    studio_admin: FlaskClient, studio: Studio
) -> None:
    post(studio_admin, f"/library/{studio.lost}/record", {"number": studio.admin.mobile or ""})
    call = event(studio_admin, studio_admin.get("/softphone/incoming").get_json()["call"], "answer")
    call = event(studio_admin, call, "dtmf", "#", audio=speech_wav(2.0))
    call = event(studio_admin, call, "dtmf", "1")

    take = studio_admin.get(call["steps"][0]["url"])

    assert take.status_code == 200 and take.data[:4] == b"RIFF"
    assert event(studio_admin, call, "dtmf", "#")["outcome"] == "recorded"


def test_a_call_is_only_seen_and_driven_by_its_own_user(
    app: Flask, studio_admin: FlaskClient, studio: Studio
) -> None:
    post(studio_admin, f"/library/{studio.placed}/record", {"number": studio.admin.mobile or ""})
    call = studio_admin.get("/softphone/incoming").get_json()["call"]
    other = app.test_client()
    with app.extensions["pbx"].unit_of_work() as s:
        tenant_admin = make_account(s, s.get(Tenant, studio.tenant_id), "company_admin")
    AuthActions(app, other).login(tenant_admin[0].email, tenant_admin[1], tenant_admin[2])

    assert other.get("/softphone/incoming").get_json() == {"call": None}
    assert other.get(f"/softphone/calls/{call['id']}").status_code == 404
    token = token_of(other, "/softphone/")
    response = other.post(call["events_url"], data={"event": "answer", "csrf_token": token})
    assert response.status_code == 404
    assert other.get(f"/softphone/calls/{call['id']}/take?take=1").status_code == 404


def test_333_from_the_softphone_records_the_greeting(
    app: Flask, studio_user: FlaskClient, studio: Studio
) -> None:
    token = token_of(studio_user, "/softphone/")
    call = studio_user.post("/softphone/dial", data={"csrf_token": token}).get_json()["call"]
    assert call["steps"][0]["url"].startswith("/softphone/prompt?id=sys")

    call = event(studio_user, call, "dtmf", "5")
    call = event(studio_user, call, "dtmf", "0", audio=encode(speech_wav(2.0, seed=8), "webm"))
    call = event(studio_user, call, "dtmf", "4")
    assert call["steps"][0]["do"] == "play_take"
    call = event(studio_user, call, "hangup")

    html = studio_user.get("/my/voicemail/").get_data(as_text=True)
    assert 'data-status="ok"' in html and "Inspelad via telefon" in html


def test_changing_the_registered_number_needs_re_authentication(
    app: Flask, studio_admin: FlaskClient, auth: AuthActions, studio: Studio
) -> None:
    with studio_admin.session_transaction() as browser:  # the sign-in's code is over 5 minutes old
        browser.pop("reauth_at", None)
    first = studio_admin.get("/softphone/number")
    assert first.status_code == 302 and "/reauth" in first.headers["Location"]

    auth.reauth(studio.admin.password, studio.admin.totp or "", next="/softphone/number")
    premium = post(studio_admin, "/softphone/number", {"number": "+46900123456"})
    assert premium.status_code == 422
    changed = post(studio_admin, "/softphone/number", {"number": "+46735559999"})
    assert changed.status_code == 302

    with app.extensions["pbx"].unit_of_work() as s:
        user = s.get(User, studio.admin.id)
        assert user is not None and user.mobile == "+46735559999"
        events = [e.action for e in s.query(AuditEvent).order_by(AuditEvent.id)]
        assert "user.callback_number" in events
    html = studio_admin.get(f"/library/{studio.placed}/record").get_data(as_text=True)
    assert 'value="+46735559999"' in html


def test_softphone_actions_need_the_csrf_token(studio_admin: FlaskClient, studio: Studio) -> None:
    post(studio_admin, f"/library/{studio.placed}/record", {"number": studio.admin.mobile or ""})
    call = studio_admin.get("/softphone/incoming").get_json()["call"]

    assert studio_admin.post(call["events_url"], data={"event": "answer"}).status_code == 400
    assert studio_admin.post("/softphone/dial", data={}).status_code == 400
    assert (
        studio_admin.post("/softphone/number", data={"number": "+46735550000"}).status_code == 400
    )


def test_unknown_prompts_and_events_are_refused(studio_admin: FlaskClient, studio: Studio) -> None:
    assert studio_admin.get("/softphone/prompt?id=../../etc/passwd").status_code == 404
    post(studio_admin, f"/library/{studio.placed}/record", {"number": studio.admin.mobile or ""})
    call = studio_admin.get("/softphone/incoming").get_json()["call"]
    token = token_of(studio_admin, "/softphone/")
    response = studio_admin.post(call["events_url"], data={"event": "explode", "csrf_token": token})
    assert response.status_code == 422
    assert re.search(r"unknown phone event", response.get_data(as_text=True))


def test_the_slot_is_unchanged_when_the_call_is_declined(
    app: Flask, studio_admin: FlaskClient, studio: Studio
) -> None:
    post(studio_admin, f"/library/{studio.placed}/record", {"number": studio.admin.mobile or ""})
    call = event(
        studio_admin, studio_admin.get("/softphone/incoming").get_json()["call"], "decline"
    )

    assert call["status"] == "ended"
    with app.extensions["pbx"].unit_of_work() as s:
        slot = s.get(MessageSlot, studio.placed)
        assert slot is not None and slot.current_version_id == studio.version
