"""The softphone's WebRTC signalling on the test client (both databases): a call answered
over WebRTC only by its own user (another account gets 404, like a token that does not
exist), a CSRF token required, only offers accepted, "Ring upp" only for the administrators
of the number's company, and a per-IP rate limit. No browser: a refused request never
reaches the WebRTC hub, so none is started."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from admin_web import webrtc
from storage.models import PhoneNumber
from tests.web.conftest import AuthActions
from tests.web.library_data import Studio, post, token_of

pytest_plugins = ["tests.web.library_fixtures"]
OFFER = {"type": "offer", "sdp": "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}


def signal(client: FlaskClient, path: str, body: object = OFFER, csrf: bool = True) -> int:
    headers = {"X-CSRFToken": token_of(client, "/softphone/")} if csrf else {}
    return client.post(path, json=body, headers=headers).status_code


def signed_in(app: Flask, email: str, password: str, totp: str | None) -> FlaskClient:
    """A client of its own (the `client` fixture is one browser, one account at a time)."""
    client = app.test_client()
    AuthActions(app, client).login(email, password, totp)
    return client


def ringing_call(studio_admin: FlaskClient, studio: Studio) -> str:
    post(studio_admin, f"/library/{studio.lost}/record", {"number": studio.admin.mobile or ""})
    call = studio_admin.get("/softphone/incoming").get_json()["call"]
    assert call["rtc_url"] == f"/softphone/calls/{call['id']}/rtc"
    return str(call["id"])


def test_a_call_is_answered_over_webrtc_by_its_own_user_only(
    app: Flask, studio_admin: FlaskClient, studio: Studio, rival_studio: Studio
) -> None:
    token = ringing_call(studio_admin, studio)
    user, rival = studio.user, rival_studio.admin
    studio_user = signed_in(app, user.email, user.password, user.totp)
    rival_admin = signed_in(app, rival.email, rival.password, rival.totp)
    assert signal(rival_admin, f"/softphone/calls/{token}/rtc") == 404
    assert signal(studio_user, f"/softphone/calls/{token}/rtc") == 404
    assert signal(studio_user, f"/softphone/calls/{'0' * 32}/rtc") == 404
    assert signal(studio_admin, f"/softphone/calls/{token}/rtc", csrf=False) == 400
    assert signal(studio_admin, f"/softphone/calls/{token}/rtc", {"type": "answer"}) == 400
    assert signal(studio_admin, "/softphone/rtc/dial", {"sdp": "hello"}) == 400
    assert webrtc.HUB not in app.extensions  # nothing refused reached the hub


def test_ring_up_is_for_the_company_admins_own_numbers(
    app: Flask, studio_admin: FlaskClient, studio: Studio, rival_studio: Studio
) -> None:
    with app.extensions["pbx"].unit_of_work() as s:
        ours = s.query(PhoneNumber).filter_by(tenant_id=studio.tenant_id).one().id
        theirs = s.query(PhoneNumber).filter_by(tenant_id=rival_studio.tenant_id).one().id
    user = studio.user
    studio_user = signed_in(app, user.email, user.password, user.totp)
    assert signal(studio_user, f"/softphone/rtc/testcall/{ours}") == 403
    assert signal(studio_admin, f"/softphone/rtc/testcall/{theirs}") == 404
    assert signal(studio_admin, "/softphone/rtc/testcall/999999") == 404
    assert webrtc.HUB not in app.extensions


def test_signalling_is_rate_limited_per_ip(studio_user: FlaskClient) -> None:
    statuses = [signal(studio_user, "/softphone/rtc/dial", {"sdp": "x"}) for _ in range(11)]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429
