"""Media URLs, the greeting page and profile pictures on the test client (both databases):
served only to the owning company with type, disposition and hash check; 404 for everyone
else on every media URL; lost voicemail keeps caller and time; bad pictures change nothing."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from pbx.services.people import greetings, profile_pictures
from storage.models import User
from tests.library_media import picture_bytes, speech_wav
from tests.web.library_data import Studio, lose_blob, post, upload

pytest_plugins = ["tests.web.library_fixtures"]


def media_urls(s: Studio) -> list[str]:
    return [
        f"/media/versions/{s.version}",
        f"/media/slots/{s.placed}",
        f"/media/versions/{s.greeting_version}",
        f"/media/voicemail/{s.voicemail_ok}",
        f"/media/pictures/{s.picture}",
        f"/media/users/{s.user.id}/picture",
    ]


def test_media_is_served_with_its_type_and_a_generated_name(
    studio_admin: FlaskClient, studio: Studio
) -> None:
    audio = studio_admin.get(f"/media/slots/{studio.placed}")
    assert audio.status_code == 200 and audio.mimetype == "audio/wav"
    assert audio.data[:4] == b"RIFF" and audio.headers["X-Content-Type-Options"] == "nosniff"
    disposition = audio.headers["Content-Disposition"]
    assert disposition == f'inline; filename="message-{studio.placed}-v{studio.version}.wav"'
    picture = studio_admin.get(f"/media/pictures/{studio.picture}")
    assert picture.mimetype == "image/webp" and picture.data[8:12] == b"WEBP"
    partial = studio_admin.get(f"/media/slots/{studio.placed}", headers={"Range": "bytes=0-99"})
    assert partial.status_code == 206 and len(partial.data) == 100


def test_every_media_url_is_404_for_another_company(
    studio_admin: FlaskClient, studio: Studio, rival_studio: Studio
) -> None:
    for url in media_urls(rival_studio):
        assert studio_admin.get(url).status_code == 404, url
    for url in media_urls(studio):
        assert studio_admin.get(url).status_code == 200, url


def test_a_user_reaches_their_own_media_only(
    studio_user: FlaskClient, studio: Studio, rival_studio: Studio
) -> None:
    own = [
        f"/media/versions/{studio.greeting_version}",
        f"/media/voicemail/{studio.voicemail_ok}",
        f"/media/users/{studio.user.id}/picture",
        f"/media/pictures/{studio.picture}",
    ]
    for url in own:
        assert studio_user.get(url).status_code == 200, url
    others = [
        f"/media/versions/{studio.version}",
        f"/media/slots/{studio.placed}",
        f"/media/users/{studio.admin.id}/picture",
        *media_urls(rival_studio),
    ]
    for url in others:
        assert studio_user.get(url).status_code == 404, url


def test_media_needs_a_signed_in_user(client: FlaskClient, studio: Studio) -> None:
    for url in media_urls(studio):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_lost_or_changed_audio_is_never_sent(
    app: Flask, studio_admin: FlaskClient, studio: Studio
) -> None:
    with app.extensions["pbx"].unit_of_work() as s:
        greeting = greetings.greeting_of(
            s, app.extensions["pbx"].blobs(s), s.get(User, studio.user.id)
        )
        assert greeting.version is not None
        sha = greeting.version.blob_sha256
    lose_blob(app, sha)

    assert studio_admin.get(f"/media/versions/{studio.greeting_version}").status_code == 410


def test_the_greeting_page_lists_lost_voicemail_with_caller_and_time(
    app: Flask, studio_user: FlaskClient, studio: Studio
) -> None:
    with app.extensions["pbx"].unit_of_work() as s:
        blobs = app.extensions["pbx"].blobs(s)
        lost = [m for m in greetings.received_messages(s, blobs, s.get(User, studio.user.id))
                if m.message.id == studio.voicemail_lost][0]  # fmt: skip
        assert lost.message.blob_sha256 is not None
        sha = lost.message.blob_sha256
    lose_blob(app, sha)

    html = studio_user.get("/my/voicemail/").get_data(as_text=True)

    assert "Mottagna röstmeddelanden" in html and "+46709998877" in html
    assert f'data-message-id="{studio.voicemail_lost}" data-status="missing"' in html
    assert "Inspelningen har försvunnit" in html and "2026-04-26 17:30" in html
    assert f"/media/voicemail/{studio.voicemail_ok}" in html
    assert "Tryck 5 för att spela in en personlig hälsningsfras." in html


def test_a_greeting_is_uploaded_synthesised_and_deleted_on_my_settings(
    app: Flask, studio_user: FlaskClient, studio: Studio
) -> None:
    assert (
        upload(studio_user, "/my/voicemail/greeting/upload", speech_wav(seed=7)).status_code == 302
    )
    bad = upload(studio_user, "/my/voicemail/greeting/upload", b"not audio at all" * 10)
    assert bad.status_code == 422
    spoken = post(
        studio_user,
        "/my/voicemail/greeting/tts",
        {"text": "Hej, du har nått mig.", "language": "sv"},
    )
    assert spoken.status_code == 302
    with app.extensions["pbx"].unit_of_work() as s:
        mine = greetings.greeting_of(s, app.extensions["pbx"].blobs(s), s.get(User, studio.user.id))
        assert mine.version is not None and mine.version.source == "tts"

    assert post(studio_user, "/my/voicemail/greeting/delete").status_code == 302
    assert "Du har ingen personlig hälsningsfras" in studio_user.get("/my/voicemail/").get_data(
        as_text=True
    )


def test_my_picture_upload_and_a_bad_picture_changes_nothing(
    app: Flask, studio_user: FlaskClient, studio: Studio
) -> None:
    assert (
        upload(studio_user, "/my/picture", picture_bytes(300, 200, "JPEG"), "me.jpg").status_code
        == 302
    )
    with app.extensions["pbx"].unit_of_work() as s:
        before = profile_pictures.picture_of(
            s, app.extensions["pbx"].blobs(s), s.get(User, studio.user.id)
        )

    for content in (b"", b"GIF89a" + b"\0" * 100, b"<svg xmlns='http://www.w3.org/2000/svg'/>"):
        assert upload(studio_user, "/my/picture", content, "x.png").status_code == 422

    with app.extensions["pbx"].unit_of_work() as s:
        after = profile_pictures.picture_of(
            s, app.extensions["pbx"].blobs(s), s.get(User, studio.user.id)
        )
        assert after.picture is not None and before.picture is not None
        assert after.picture.id == before.picture.id


def test_admins_see_who_has_no_picture_and_upload_for_them(
    studio_admin: FlaskClient, studio: Studio, rival_studio: Studio
) -> None:
    html = studio_admin.get("/pictures/").get_data(as_text=True)
    states = dict(re.findall(r'data-user-id="(\d+)" data-status="(\w+)"', html))
    assert states[str(studio.user.id)] == "ok" and states[str(studio.admin.id)] == "none"
    assert "saknar bild" in html

    assert upload(studio_admin, f"/pictures/{studio.admin.id}", picture_bytes()).status_code == 302
    assert (
        upload(studio_admin, f"/pictures/{rival_studio.user.id}", picture_bytes()).status_code
        == 404
    )
    placeholder = studio_admin.get(f"/media/users/{studio.admin.id}/picture")
    assert placeholder.status_code == 200 and placeholder.mimetype == "image/webp"


def test_media_and_my_settings_actions_need_the_csrf_token(
    studio_user: FlaskClient, studio: Studio
) -> None:
    for path in ("/my/voicemail/greeting/upload", "/my/voicemail/greeting/tts",
                 "/my/voicemail/greeting/delete", "/my/picture"):  # fmt: skip
        response: TestResponse = studio_user.post(path, data={})
        assert response.status_code == 400, path
