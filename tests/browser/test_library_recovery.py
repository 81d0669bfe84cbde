"""Done-when of issue 6 in a real browser (headless Chromium, microphone fed from a WAV the
test synthesises): an admin finds the missing message by its red cross, records it again
through "Spela in filen" → "Initiera samtal" on the softphone (the stored master matches what
was said), makes another with text-to-speech, uploads a file, rolls back a version; a user
re-records their greeting through 333; the red crosses go away as messages come back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from pbx.services.common.actor import SYSTEM
from pbx.services.library import messages as library
from pbx.services.people import greetings
from pbx.services.routing import numbers
from pbx.services.routing.targets import Target
from storage.models import MessageSlot, Tenant, User
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, screenshot
from tests.browser.library_browser import compare_with_fed, fed_audio, sign_in
from tests.library_media import encode, offline_tts, speech_wav
from tests.web.library_data import Studio, build_studio, lose_blob

pytestmark = pytest.mark.browser
SPEAK_S = 6.5  # the fed sound lasts 4.4 s; hang up while the rest is silence


@pytest.fixture(scope="package")
def fed_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("microphone") / "fed.wav"
    path.write_bytes(fed_audio())
    return path


@pytest.fixture(scope="package")
def media_chromium(_chromium: Any, fed_wav: Path) -> Iterator[Any]:
    """A second Chromium from the same playwright, with the fed file as its microphone."""
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={fed_wav}%noloop",
    ]
    browser = _chromium.browser_type.launch(executable_path=CHROMIUM, headless=True, args=args)
    yield browser
    browser.close()


@pytest.fixture
def page(media_chromium: Any) -> Iterator[Any]:
    context = media_chromium.new_context(
        locale="sv-SE", timezone_id="Europe/Stockholm", permissions=["microphone"]
    )
    context.set_default_timeout(30_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def studio(app: Flask) -> Studio:
    """A company hit by the fault: a message used by a number, one whose audio is lost."""
    app.extensions["pbx_tts"] = offline_tts()  # real engines; only the internet is away
    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as session:
        made = build_studio(session, runtime.blobs(session), 1)
    for sha in made.blobs:
        lose_blob(app, sha)
    return made


def current_master(app: Flask, slot_id: int) -> tuple[str, bytes]:
    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as s:
        slot = s.get(MessageSlot, slot_id)
        assert slot is not None
        version = library.versions(s, runtime.blobs(s), slot)[0].version
        return version.source, runtime.blobs(s).get(version.blob_sha256)


TEST_NUMBER = "+46852309999"


def place_for_test_call(app: Flask, studio: Studio) -> int:
    """The lost message is also the welcome of a second number (for the test call)."""
    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as s:
        tenant = s.get(Tenant, studio.tenant_id)
        assert tenant is not None
        target = Target("user", user_id=studio.user.id)
        number = numbers.add_number(
            s, SYSTEM, tenant, TEST_NUMBER, target, welcome_slot_id=studio.lost
        )
        return number.id


def provringa(page: Any, base_url: str, number_id: int, slot_id: int) -> str:
    """ "Provringa" the number: 'ok' when the message plays (and its audio loads), else
    'missing' (shown in red on the page)."""
    page.goto(f"{base_url}/testcall/?number={number_id}")
    player = page.locator(f'#trace audio[src="/media/slots/{slot_id}"]')
    if player.count() == 0:
        assert page.locator("#trace li.missing").count() >= 1
        return "missing"
    assert page.request.get(f"{base_url}/media/slots/{slot_id}").status == 200
    return "ok"


def row_status(page: Any, slot_id: int) -> str | None:
    row = page.locator(f'#library tr[data-slot-id="{slot_id}"]')
    return row.get_attribute("data-status") if row.count() else None


def test_a_missing_message_is_recorded_again_through_the_callback_softphone(
    app: Flask, live_server: str, page: Any, studio: Studio
) -> None:
    number_id = place_for_test_call(app, studio)
    sign_in(page, app, live_server, studio.admin.email, studio.admin.password, studio.admin.totp)
    assert provringa(page, live_server, number_id, studio.lost) == "missing"
    page.goto(f"{live_server}/library/")
    assert row_status(page, studio.lost) == "missing"
    assert page.locator(f'tr[data-slot-id="{studio.lost}"] .red-cross').count() == 1
    screenshot(page, "library-red-cross")

    page.click(f'#library tr[data-slot-id="{studio.lost}"] td a')
    page.click("#edit-link")
    page.click("#record-link")
    assert page.input_value("#f-number") == studio.admin.mobile
    assert "Tryck ett för oss." in page.inner_text("#script")
    page.click("#initiate-call")

    page.wait_for_selector('#softphone[data-state="ringing"]')
    assert page.is_disabled("#softphone-dial")  # "Ring 333" waits while it rings
    page.click("#softphone-answer")
    page.wait_for_selector('#softphone[data-state="recording"]')
    page.wait_for_timeout(SPEAK_S * 1000)
    page.click("#softphone-hangup")
    page.wait_for_selector('#softphone[data-outcome="recorded"]')
    screenshot(page, "softphone-recorded")

    source, master = current_master(app, studio.lost)
    match = compare_with_fed(master)
    assert source == "phone"
    assert 0.9 <= match.duration_ratio <= 1.1, match
    assert match.correlation >= 0.7, match
    page.click("#back-to-list")
    assert row_status(page, studio.lost) == "ok"
    assert page.locator(".red-cross").count() == 0
    # Provringa: callers now hear the new recording
    assert provringa(page, live_server, number_id, studio.lost) == "ok"
    screenshot(page, "testcall-after-recovery")


def test_a_user_re_records_their_greeting_through_333_on_the_softphone(
    app: Flask, live_server: str, page: Any, studio: Studio
) -> None:
    sign_in(page, app, live_server, studio.user.email, studio.user.password, studio.user.totp)
    page.goto(f"{live_server}/my/voicemail/")
    page.click("#call-333")
    page.wait_for_selector("#softphone[data-ready]")
    page.click("#softphone-dial")
    page.wait_for_selector('#softphone[data-state="playing"]')
    page.click('#softphone-keypad [data-key="5"]')
    page.wait_for_selector('#softphone[data-state="recording"]')
    page.wait_for_timeout(SPEAK_S * 1000)
    page.click('#softphone-keypad [data-key="0"]')
    page.wait_for_selector('#softphone[data-state="playing"]')
    page.click('#softphone-keypad [data-key="4"]')  # listen to it
    page.wait_for_timeout(1000)
    page.click("#softphone-hangup")
    page.wait_for_selector('#softphone[data-state="ended"]')

    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as s:
        mine = greetings.greeting_of(s, runtime.blobs(s), s.get(User, studio.user.id))
        assert mine.version is not None and mine.version.source == "phone"
        master = runtime.blobs(s).get(mine.version.blob_sha256)
    match = compare_with_fed(master)
    assert 0.9 <= match.duration_ratio <= 1.1 and match.correlation >= 0.7, match
    page.goto(f"{live_server}/my/voicemail/")
    assert page.get_attribute("#greeting", "data-status") == "ok"
    assert "Inspelad via telefon" in page.inner_text("#greeting-state")
    screenshot(page, "greeting-333")


def test_text_to_speech_upload_and_rollback_in_the_browser(
    app: Flask, live_server: str, page: Any, studio: Studio, tmp_path: Path
) -> None:
    sign_in(page, app, live_server, studio.admin.email, studio.admin.password, studio.admin.totp)
    page.goto(f"{live_server}/library/{studio.lost}/edit")
    page.fill("#f-tts-text", "Välkommen till Ljudbolaget. Tryck ett för växeln.")
    page.click("#tts-preview-form button[type=submit]")
    preview = page.locator("#tts-preview-audio")
    preview.wait_for()
    duration = page.evaluate(
        "a => new Promise(ok => a.readyState >= 1 ? ok(a.duration)"
        " : a.onloadedmetadata = () => ok(a.duration))",
        preview.element_handle(),
    )
    assert duration > 1.5
    page.click("#tts-save-form button[type=submit]")
    assert "Text-to-speech (espeak)" in page.inner_text("#message")
    source, _ = current_master(app, studio.lost)
    assert source == "tts"

    upload = tmp_path / "inspelning.mp3"
    upload.write_bytes(encode(speech_wav(3.0, seed=5), "mp3"))
    page.click("#edit-link")
    page.set_input_files("#f-file", str(upload))
    page.click("#upload-form button[type=submit]")
    assert page.locator("#versions tbody tr").count() == 3  # lost upload, TTS, this upload
    assert "Uppladdad fil" in page.inner_text("#message")

    older = page.locator('#versions tr:has-text("Text-to-speech") button')
    older.click()
    assert "Den äldre versionen används igen." in page.inner_text(".flash-success")
    current_row = page.locator("#versions tr.current")
    assert "Text-to-speech" in current_row.inner_text()
    assert page.locator("#versions tbody tr").count() == 3  # nothing was deleted
    screenshot(page, "library-rollback")
    page.goto(f"{live_server}/library/")
    assert page.locator(".red-cross").count() == 0


def test_bulk_text_to_speech_clears_the_red_crosses_with_progress(
    app: Flask, live_server: str, page: Any, studio: Studio
) -> None:
    sign_in(page, app, live_server, studio.admin.email, studio.admin.password, studio.admin.totp)
    page.goto(f"{live_server}/library/")
    assert page.get_attribute("#missing-summary", "data-missing") == "1"

    page.click("#regenerate-form button[type=submit]")
    # the list of what was made (and what still needs a recording) follows the progress
    page.wait_for_url(re.compile(r".*/library/\?missing=1&made=[0-9,]+$"))

    assert page.get_attribute("#missing-summary", "data-missing") == "0"
    assert page.locator(".red-cross").count() == 0
    page.goto(f"{live_server}/library/{studio.lost}")
    assert "Text-to-speech (espeak)" in page.inner_text("#message")
