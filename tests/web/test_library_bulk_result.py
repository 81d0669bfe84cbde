""" "Skapa alla saknade meddelanden med text-to-speech" ends on what was made and what still
needs a recording; the library shows the personal greetings that lost their audio and says
where they are recorded again (issue 16 item 3)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pbx.services.library import messages as library
from storage.models import MediaVersion, MessageSlot, Tenant, User
from tests.library_media import speech_wav
from tests.web.library_data import Studio, actor_of, lose_blob, post

pytest_plugins = ["tests.web.library_fixtures"]


def lose_more(app: Flask, studio: Studio) -> int:
    """Also lost: the user's greeting, and a message without script text (returns its id)."""
    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as s:
        admin = s.get(User, studio.admin.id)
        unscripted = library.create_message(
            s, actor_of(admin), s.get(Tenant, studio.tenant_id),
            kind="queue", name="Kömusik", script_text="",
        )  # fmt: skip
        version = library.save_audio(s, runtime.blobs(s), actor_of(admin), unscripted,
                                     speech_wav(seed=7))  # fmt: skip
        greeting = s.get(MediaVersion, studio.greeting_version)
        shas, slot_id = [version.blob_sha256, greeting.blob_sha256], unscripted.id
    for sha in shas:
        lose_blob(app, sha)
    return slot_id


def test_the_library_names_the_greetings_without_audio(
    app: Flask, studio_admin: FlaskClient, studio: Studio
) -> None:
    lose_more(app, studio)
    html = studio_admin.get("/library/").text
    section = html[html.index('id="missing-greetings"') :]
    assert "1 personlig hälsningsfras saknar ljud" in section
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.get(User, studio.user.id).name in section
    assert "Mina inställningar › Hälsningsfras" in section and "333" in section


def test_bulk_tts_ends_with_what_was_made_and_what_needs_a_recording(
    app: Flask, studio_admin: FlaskClient, studio: Studio
) -> None:
    unscripted = lose_more(app, studio)
    done = post(studio_admin, "/library/regenerate")
    assert done.status_code == 302 and f"made={studio.lost}" in done.headers["Location"]
    html = studio_admin.get(done.headers["Location"]).text

    made = html[html.index('id="bulk-made"') :]
    assert "1 meddelande skapades med text-to-speech" in html
    assert "Knappval" in made[: made.index("</ul>")]
    needs = html[html.index('id="bulk-needs-recording"') :]
    assert "1 meddelande saknar fortfarande ljud och behöver spelas in" in html
    assert "Kömusik" in needs[: needs.index("</ul>")] and "ingen manustext" in needs
    assert f"/library/{unscripted}/edit" in needs
    with app.extensions["pbx"].unit_of_work() as s:  # the greeting stays the user's
        greeting = s.scalar(select(MessageSlot).where(MessageSlot.kind == "greeting"))
        assert greeting is not None and f"/library/{greeting.id}/" not in needs
    assert 'id="missing-greetings"' in html


def test_a_made_list_names_only_the_companys_messages(
    studio_admin: FlaskClient, studio: Studio, rival_studio: Studio
) -> None:
    html = studio_admin.get(f"/library/?made={rival_studio.placed},x,{studio.placed}").text
    made = html[html.index('id="bulk-made"') :]
    made = made[: made.index("</ul>")]
    assert "Välkommen" in made and made.count("<li>") == 1
