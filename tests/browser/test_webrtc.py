"""The softphone as a real phone (issue 15): headless Chromium, its microphone fed from a WAV,
talks WebRTC (Opus, DTLS-SRTP) to the switchboard's peer in this process, on 127.0.0.1 only.

- "Spela in filen" → "Initiera samtal", answered on the page: the message is recorded on the
  server from the call's audio stream (no upload) and matches what was fed in;
- 333: keys over the DataChannel (5 record, 0 end, 4 listen), the greeting stored matches;
- "Ring upp" on the test-call page: the welcome is heard in the page (received audio energy)
  and the server counted the frames it sent;
- a browser without a microphone still hears the call (recvonly) and is told why it cannot
  speak.

Every ICE candidate exchanged, and the pair in use, is 127.0.0.1. Prompts are spoken fast
(espeak at 400 words a minute) to keep the tests short. Only SQLite: the media path does not
depend on the database, and the database's side of live calls is tested on both elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask

from admin_web import webrtc
from pbx.media.audio import normalise_audio, read_master
from pbx.media.tts import EspeakEngine, FallbackTts
from pbx.services.people import greetings
from storage.models import MessageSlot, PhoneNumber, User
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.library_browser import compare_with_fed, fed_audio, sign_in
from tests.web.library_data import Studio, build_studio

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]
SPEAK_S = 5.5  # the fed sound: 0.4 s of silence, 4 s of speech-like sound, then silence
WEBRTC_ARGS = CHROMIUM_ARGS  # they allow loopback in ICE, with addresses, not mDNS names


@pytest.fixture(scope="module")
def fed_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("microphone") / "fed.wav"
    path.write_bytes(fed_audio())
    return path


@pytest.fixture(scope="module")
def phone_chromium(_chromium: Any, fed_wav: Path) -> Iterator[Any]:
    """Chromium with the fed file as its microphone (from the start each time it opens)."""
    args = [
        *WEBRTC_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={fed_wav}%noloop",
    ]
    browser = _chromium.browser_type.launch(executable_path=CHROMIUM, headless=True, args=args)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def deaf_chromium(_chromium: Any) -> Iterator[Any]:
    """Chromium without any microphone (no fake device, no permission)."""
    browser = _chromium.browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=WEBRTC_ARGS
    )
    yield browser
    browser.close()


def _page(browser: Any, **options: Any) -> Iterator[Any]:
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm", **options)
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def page(phone_chromium: Any) -> Iterator[Any]:
    yield from _page(phone_chromium, permissions=["microphone"])


@pytest.fixture
def deaf_page(deaf_chromium: Any) -> Iterator[Any]:
    yield from _page(deaf_chromium)


@pytest.fixture
def site(app: Flask, live_server: str) -> Iterator[str]:
    """The live site with fast offline speech; every WebRTC call hung up at the end."""
    app.extensions["pbx_tts"] = FallbackTts([EspeakEngine(words_per_minute=400)])
    yield live_server
    webrtc.close(app)


@pytest.fixture
def studio(app: Flask) -> Studio:
    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as session:
        return build_studio(session, runtime.blobs(session), 1)


def assert_loopback_only(panel: Any) -> None:
    addresses = json.loads(panel.get_attribute("data-candidates") or "[]")
    assert addresses, "no candidates were reported"
    assert set(addresses) == {"127.0.0.1"}, addresses


def heard_energy(page: Any, selector: str, above: float = 0.0) -> float:
    """The audio energy the page has received so far (WebRTC stats), once it is above
    `above` (polled from here: the site's CSP forbids the eval behind wait_for_function)."""
    for _ in range(100):
        energy = float(page.get_attribute(selector, "data-heard-energy") or 0)
        if energy > above:
            return energy
        page.wait_for_timeout(100)
    raise AssertionError(f"no audio heard in {selector} (energy {energy})")


def assert_matches_fed(master: bytes) -> None:
    """Length within 0.5 s, sound in it, and its energy envelope follows the fed sound's
    (both trimmed and levelled the same way; resampled to 8 kHz on the way)."""
    fed = read_master(normalise_audio(fed_audio(), max_bytes=10**8, max_seconds=60).wav)
    stored = read_master(master)
    assert abs(len(stored) - len(fed)) / 8000 <= 0.5, (len(stored) / 8000, len(fed) / 8000)
    rms = float(np.sqrt(np.mean((stored.astype(np.float64) / 32768) ** 2)))
    assert rms > 0.03, rms
    match = compare_with_fed(master)
    assert match.correlation >= 0.7, match


def test_record_by_phone_answered_in_the_page(
    app: Flask, site: str, page: Any, studio: Studio
) -> None:
    admin = studio.admin
    sign_in(page, app, site, admin.email, admin.password, admin.totp)
    page.goto(f"{site}/library/{studio.lost}/record")
    page.click("#initiate-call")
    page.wait_for_selector('#softphone[data-state="ringing"]')
    page.click("#softphone-answer")
    page.wait_for_selector('#softphone[data-state="recording"]')
    page.wait_for_timeout(SPEAK_S * 1000)
    page.click("#softphone-hangup")
    page.wait_for_selector('#softphone[data-outcome="recorded"]')
    assert_loopback_only(page.locator("#softphone"))
    assert heard_energy(page, "#softphone") > 0  # the instructions were heard

    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as s:
        slot = s.get(MessageSlot, studio.lost)
        assert slot is not None
        from pbx.services.library import messages as library

        version = library.versions(s, runtime.blobs(s), slot)[0].version
        assert version.source == "phone"
        master = runtime.blobs(s).get(version.blob_sha256)
    assert_matches_fed(master)


def test_333_keys_over_the_data_channel_record_and_play_the_greeting(
    app: Flask, site: str, page: Any, studio: Studio
) -> None:
    user = studio.user
    sign_in(page, app, site, user.email, user.password, user.totp)
    page.goto(f"{site}/softphone/?dial=333")
    page.wait_for_selector("#softphone[data-ready]")
    page.click("#softphone-dial")
    page.wait_for_selector('#softphone[data-state="playing"]')
    page.click('#softphone-keypad [data-key="5"]')
    page.wait_for_selector('#softphone[data-state="recording"]')
    page.wait_for_timeout(SPEAK_S * 1000)
    page.click('#softphone-keypad [data-key="0"]')
    page.wait_for_selector('#softphone[data-state="playing"]')
    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as s:
        mine = greetings.greeting_of(s, runtime.blobs(s), s.get(User, user.id))
        assert mine.version is not None and mine.version.source == "phone"
        master = runtime.blobs(s).get(mine.version.blob_sha256)
    before = heard_energy(page, "#softphone")
    page.click('#softphone-keypad [data-key="4"]')  # listen to it
    heard_energy(page, "#softphone", above=before + 0.5)  # the greeting played back
    page.click("#softphone-hangup")
    page.wait_for_selector('#softphone[data-state="ended"]')
    assert_loopback_only(page.locator("#softphone"))
    assert_matches_fed(master)


def test_ring_up_a_company_number_from_the_test_call_page(
    app: Flask, site: str, page: Any, studio: Studio
) -> None:
    admin = studio.admin
    sign_in(page, app, site, admin.email, admin.password, admin.totp)
    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as s:
        number = s.query(PhoneNumber).filter_by(tenant_id=studio.tenant_id).one()
        number_id = number.id
    page.goto(f"{site}/testcall/")
    page.wait_for_selector("#ring-up[data-ready]")
    page.select_option("#ring-up-number", str(number_id))
    page.click("#ring-up-call")
    page.wait_for_selector('#ring-up[data-state="playing"]')
    assert heard_energy(page, "#ring-up") > 0.05  # the welcome message, live
    page.click("#ring-up-hangup")
    page.wait_for_selector('#ring-up[data-state="ended"]')
    assert_loopback_only(page.locator("#ring-up"))
    hub = app.extensions[webrtc.HUB]
    for _ in range(50):  # the server closes its end just after the page
        if not hub.calls:
            break
        page.wait_for_timeout(100)
    assert not hub.calls
    assert hub.totals["sound_frames_sent"] >= 50, hub.totals  # at least 1 s of sound went out


def test_without_a_microphone_the_call_is_still_heard(
    app: Flask, site: str, deaf_page: Any, studio: Studio
) -> None:
    user = studio.user
    sign_in(deaf_page, app, site, user.email, user.password, user.totp)
    deaf_page.goto(f"{site}/softphone/?dial=333")
    deaf_page.wait_for_selector("#softphone[data-ready]")
    deaf_page.click("#softphone-dial")
    deaf_page.wait_for_selector('#softphone[data-microphone="none"]')
    assert "Ingen mikrofon kunde användas" in deaf_page.inner_text("#softphone-note")
    assert heard_energy(deaf_page, "#softphone") > 0  # recvonly: the menu is heard
    deaf_page.click("#softphone-hangup")
    deaf_page.wait_for_selector('#softphone[data-state="ended"]')
    assert_loopback_only(deaf_page.locator("#softphone"))
