"""Organisation / Röstmeddelanden / Röstmeddelanden on the test client (both databases):
the list with red crosses, a message, editing, upload, text-to-speech, versions, guarded
delete, bulk regeneration. Bad input changes nothing."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from storage.models import AuditEvent, MediaVersion, MessageSlot
from tests.library_media import encode, silent_wav, speech_wav
from tests.web.library_data import Studio, post, upload

pytest_plugins = ["tests.web.library_fixtures"]

BAD_UPLOADS = {
    "undecodable": (b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4, "incomplete"),
    "empty": (b"", "Choose a file"),
    "text": (b"this is a text file, not a recording " * 40, "not a supported audio file"),
    "silent": (None, "silent"),
}


def versions(app: Flask, slot_id: int) -> list[int]:
    with app.extensions["pbx"].unit_of_work() as s:
        stmt = select(MediaVersion.id).where(MediaVersion.slot_id == slot_id)
        return list(s.scalars(stmt.order_by(MediaVersion.id)))


def current(app: Flask, slot_id: int) -> int | None:
    with app.extensions["pbx"].unit_of_work() as s:
        slot = s.get(MessageSlot, slot_id)
        assert slot is not None
        return slot.current_version_id


def english(client: FlaskClient) -> None:
    post(client, "/language", {"lang": "en", "next": "/"})


def test_the_list_shows_a_red_cross_and_counts_what_is_missing(
    studio_admin: FlaskClient, studio: Studio
) -> None:
    html = studio_admin.get("/library/").get_data(as_text=True)

    assert "Röstmeddelanden" in html and "Ta inte bort något meddelande!" in html
    rows = dict(re.findall(r'data-slot-id="(\d+)" data-status="(\w+)"', html))
    assert rows == {str(studio.placed): "ok", str(studio.lost): "missing"}
    assert "1 av 2 meddelanden saknar ljud" in html
    assert "Spela upp" in html and "+4685230" in html
    only = studio_admin.get("/library/?missing=1").get_data(as_text=True)
    assert re.findall(r'data-slot-id="(\d+)"', only) == [str(studio.lost)]


def test_a_message_shows_where_it_is_used_and_its_versions(
    studio_admin: FlaskClient, studio: Studio
) -> None:
    html = studio_admin.get(f"/library/{studio.placed}").get_data(as_text=True)

    assert f'data-version-id="{studio.version}"' in html
    assert f"/media/slots/{studio.placed}" in html and "Redigera" in html
    assert "Nummer +4685230" in html


def test_edit_saves_name_language_and_script_and_refuses_an_empty_name(
    app: Flask, studio_admin: FlaskClient, studio: Studio
) -> None:
    path = f"/library/{studio.placed}/edit"
    bad = post(studio_admin, path, {"name": " ", "language": "sv", "script_text": "x"})
    assert bad.status_code == 422
    good = post(studio_admin, path, {"name": "Välkommen 2", "language": "en", "script_text": "Hi"})
    assert good.status_code == 302
    with app.extensions["pbx"].unit_of_work() as s:
        slot = s.get(MessageSlot, studio.placed)
        assert slot is not None and (slot.name, slot.language) == ("Välkommen 2", "en")


def test_an_upload_becomes_the_new_version(
    app: Flask, studio_admin: FlaskClient, studio: Studio
) -> None:
    response = upload(studio_admin, f"/library/{studio.lost}/upload", encode(speech_wav(), "mp3"))

    assert response.status_code == 302
    assert current(app, studio.lost) == versions(app, studio.lost)[-1]
    assert 'data-status="missing"' not in studio_admin.get("/library/").get_data(as_text=True)


def test_bad_uploads_get_a_clear_message_and_change_nothing(
    app: Flask, studio_admin: FlaskClient, studio: Studio
) -> None:
    english(studio_admin)
    before = versions(app, studio.placed)
    for name, (content, message) in BAD_UPLOADS.items():
        content = silent_wav() if content is None else content
        response = upload(studio_admin, f"/library/{studio.placed}/upload", content, f"{name}.wav")
        assert response.status_code == 422, name
        assert message in response.get_data(as_text=True), name
    assert versions(app, studio.placed) == before
    assert current(app, studio.placed) == studio.version


def test_too_long_and_huge_uploads_are_refused(
    app: Flask, studio_admin: FlaskClient, studio: Studio
) -> None:
    english(studio_admin)
    path = f"/library/{studio.placed}/upload"
    response = upload(studio_admin, path, encode(speech_wav(200.0), "mp3"), "a.mp3")
    assert response.status_code == 422 and "longer than allowed" in response.get_data(as_text=True)
    response = upload(studio_admin, path, b"\xff\xfb\x90\x00" + b"\0" * 16_000_000, "b.mp3")
    assert response.status_code == 422 and "larger than allowed" in response.get_data(as_text=True)
    response = upload(studio_admin, path, b"\0" * (21 * 1024 * 1024), "c.wav")
    assert response.status_code == 413
    assert versions(app, studio.placed) == [studio.version]


def test_text_to_speech_preview_then_save(
    app: Flask, studio_admin: FlaskClient, studio: Studio
) -> None:
    page = studio_admin.get(
        f"/library/{studio.lost}/edit?preview=1&text=Hej+och+välkommen&language=sv"
    )
    html = page.get_data(as_text=True)
    preview = re.search(r'id="tts-preview-audio"[^>]*|src="(/media/tts-preview\?[^"]+)"', html)
    assert preview is not None and "/media/tts-preview?" in html
    audio = studio_admin.get("/media/tts-preview?text=Hej+och+v%C3%A4lkommen&language=sv")
    assert audio.status_code == 200 and audio.mimetype == "audio/wav"
    assert versions(app, studio.lost) == versions(app, studio.lost)  # a preview stores nothing

    saved = post(
        studio_admin, f"/library/{studio.lost}/tts", {"text": "Hej och välkommen", "language": "sv"}
    )

    assert saved.status_code == 302
    with app.extensions["pbx"].unit_of_work() as s:
        version = s.get(MediaVersion, current(app, studio.lost))
        assert version is not None and (version.source, version.engine) == ("tts", "espeak")


def test_empty_text_to_speech_is_refused(
    app: Flask, studio_admin: FlaskClient, studio: Studio
) -> None:
    before = versions(app, studio.lost)
    response = post(studio_admin, f"/library/{studio.lost}/tts", {"text": "  ", "language": "sv"})
    assert response.status_code == 422 and versions(app, studio.lost) == before
    assert studio_admin.get("/media/tts-preview?text=&language=sv").status_code == 400


def test_rollback_restores_an_older_version_and_is_audited(
    app: Flask, studio_admin: FlaskClient, studio: Studio
) -> None:
    upload(studio_admin, f"/library/{studio.placed}/upload", speech_wav(seed=9), "ny.wav")
    assert current(app, studio.placed) != studio.version

    response = post(studio_admin, f"/library/{studio.placed}/versions/{studio.version}/restore")

    assert response.status_code == 302
    assert current(app, studio.placed) == studio.version
    assert len(versions(app, studio.placed)) == 2
    with app.extensions["pbx"].unit_of_work() as s:
        count = s.scalar(select(func.count()).where(AuditEvent.action == "slot.rollback"))
        assert count == 1
    # Issue 16 item 7: the audit log names the versions by their number in the message (the
    # entry keeps the database id for the machine), never by the id.
    newest = versions(app, studio.placed)[-1]  # version 2 of the message, a higher id
    assert newest > 2
    for restored in ("Tidigare version av meddelandet återställd", "Message version restored"):
        if restored.startswith("Message"):
            english(studio_admin)
        page = studio_admin.get("/audit?action=slot").get_data(as_text=True)
        row = next(r for r in page.split("<tr>") if restored in r)
        assert re.search(r"<td>Version: 2</td>\s*<td>Version: 1</td>", row), row
        assert f"Version: {newest}<" not in row and "version_id" not in page.lower()


def test_versions_are_numbered_per_message_and_lengths_rounded(
    app: Flask, studio_admin: FlaskClient, studio: Studio
) -> None:
    """Issue 16 item 7: 1, 2, 3 … per message (not database ids), m:ss to the nearest second."""
    from admin_web.views.library import clip_length

    for seed in (9, 10):
        upload(studio_admin, f"/library/{studio.placed}/upload", speech_wav(seed=seed), "ny.wav")
    html = studio_admin.get(f"/library/{studio.placed}").get_data(as_text=True)
    ids = versions(app, studio.placed)
    cells = re.findall(r'data-version-id="(\d+)"[^>]*>\s*<td>(\d+)', html)
    assert cells == [(str(ids[2]), "3"), (str(ids[1]), "2"), (str(ids[0]), "1")]
    assert [clip_length(ms) for ms in (None, 0, 200, 1499, 1500, 61_400, 119_600)] == [
        "0:00", "0:00", "0:01", "0:01", "0:02", "1:01", "2:00"
    ]  # fmt: skip


def test_a_used_message_cannot_be_deleted_and_others_can_be_undone(
    app: Flask, studio_admin: FlaskClient, studio: Studio
) -> None:
    refused = post(studio_admin, f"/library/{studio.placed}/delete")
    assert refused.status_code == 422 and "används" in refused.get_data(as_text=True)

    assert post(studio_admin, f"/library/{studio.lost}/delete").status_code == 302
    html = studio_admin.get("/library/").get_data(as_text=True)
    assert f'data-slot-id="{studio.lost}"' not in html and "Borttagna meddelanden" in html
    assert studio_admin.get(f"/library/{studio.lost}").status_code == 404
    assert post(studio_admin, f"/library/{studio.lost}/undelete").status_code == 302
    assert studio_admin.get(f"/library/{studio.lost}").status_code == 200


def test_bulk_regeneration_reports_progress_and_fixes_the_red_crosses(
    studio_admin: FlaskClient, studio: Studio
) -> None:
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', studio_admin.get("/library/").get_data(as_text=True)
    )
    assert token is not None

    response = studio_admin.post(
        "/library/regenerate", data={"csrf_token": token.group(1)},
        headers={"Accept": "application/json"},
    )  # fmt: skip

    assert response.get_json() == {
        "done": 1, "made": [studio.lost], "failed": [], "remaining": 0, "needs_recording": 0,
    }  # fmt: skip
    assert "Alla meddelanden har ljud" in studio_admin.get("/library/").get_data(as_text=True)


def test_users_and_other_companies_do_not_reach_the_library(
    studio_user: FlaskClient, studio: Studio, rival_studio: Studio
) -> None:
    assert studio_user.get("/library/").status_code == 403
    assert studio_user.get(f"/library/{studio.placed}").status_code == 403


def test_another_companys_message_is_404_on_every_page(
    studio_admin: FlaskClient, rival_studio: Studio
) -> None:
    for path in ("", "/edit", "/record"):
        assert studio_admin.get(f"/library/{rival_studio.placed}{path}").status_code == 404
    for path in ("/upload", "/tts", "/delete", f"/versions/{rival_studio.version}/restore"):
        assert post(studio_admin, f"/library/{rival_studio.placed}{path}").status_code == 404


def test_every_library_action_needs_the_csrf_token(
    studio_admin: FlaskClient, studio: Studio
) -> None:
    for path in (
        "/upload",
        "/tts",
        "/delete",
        "/edit",
        "/record",
        f"/versions/{studio.version}/restore",
    ):
        assert studio_admin.post(f"/library/{studio.placed}{path}", data={}).status_code == 400
    assert studio_admin.post("/library/regenerate").status_code == 400
