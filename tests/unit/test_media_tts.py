"""Text-to-speech on real espeak-ng, and gTTS against the real (absent) internet.

The only fakes stand in for the internet: `fetch` functions that answer like Google's speech
service would (MP3 bytes made by the real ffmpeg), or fail like an unreachable one.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time

import numpy as np
import pytest

from pbx.media import errors
from pbx.media.audio import MASTER_RATE, energy_envelope, envelope_correlation, read_master
from pbx.media.decoder import ffmpeg_exe
from pbx.media.tts import (
    EspeakEngine,
    FallbackTts,
    GttsEngine,
    Synthesis,
    build_tts,
    check_request,
)
from pbx.media.wav import tone
from tests.databases import IN_CI

SWEDISH = (
    "Välkommen till Exempelföretaget. Vårt kontor har öppet vardagar mellan åtta och "
    "sjutton. Tryck ett för växeln, två för support och tre för ekonomi."
)
ENGLISH = "Welcome to Example Company. Press one for the switchboard or two for support."


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class UnreachableInternet:
    """Fails like a network without DNS, and counts how often it was asked."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.calls = 0
        self.delay_s = delay_s

    def __call__(self, text: str, language: str, timeout_s: float) -> bytes:
        self.calls += 1
        time.sleep(self.delay_s)
        raise ConnectionError("Name or service not known")


def google_like_mp3(text: str, language: str, timeout_s: float) -> bytes:
    """What the speech service sends back: a 24 kHz mono MP3 (here a tone, made by ffmpeg)."""
    return subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "wav", "-i", "pipe:0", "-ar", "24000",
         "-c:a", "libmp3lame", "-f", "mp3", "pipe:1"],
        input=tone(300, 1500, rate=24000), capture_output=True, check=True, timeout=30,
    ).stdout  # fmt: skip


def assert_master(synthesis: Synthesis) -> None:
    samples = read_master(synthesis.wav)
    assert len(samples) * 1000 // MASTER_RATE == synthesis.duration_ms
    assert synthesis.audio.peak_dbfs <= -0.9


def machine_is_online() -> bool:
    try:
        socket.getaddrinfo("translate.google.com", 443)
    except OSError:
        return False
    return True


# --- espeak-ng ------------------------------------------------------------------------------


def test_espeak_speaks_swedish_with_a_plausible_duration() -> None:
    synthesis = EspeakEngine().synthesise(SWEDISH, "sv")

    assert (synthesis.engine, synthesis.language) == ("espeak", "sv")
    assert_master(synthesis)
    words = len(SWEDISH.split())
    assert 0.25 * words < synthesis.duration_ms / 1000 < 0.8 * words  # ~2.5 words a second


def test_espeak_speaks_english() -> None:
    synthesis = EspeakEngine().synthesise(ENGLISH, "en")

    assert (synthesis.engine, synthesis.language) == ("espeak", "en")
    assert_master(synthesis)
    assert 3000 < synthesis.duration_ms < 10000


def test_the_voice_follows_the_language() -> None:
    engine = EspeakEngine()
    swedish = engine.synthesise("Sju sjösjuka sjömän", "sv")
    english = engine.synthesise("Sju sjösjuka sjömän", "en")
    assert swedish.wav != english.wav


def test_espeak_is_safe_from_many_threads() -> None:
    """The library is global state; the engine's lock keeps concurrent requests apart.

    (Output is not bit-identical between calls: espeak's noise source for consonants runs
    on, so compare duration and shape.)
    """
    engine = EspeakEngine()
    expected = read_master(engine.synthesise(ENGLISH, "en").wav)
    results: list[Synthesis] = []

    def speak() -> None:
        results.append(engine.synthesise(ENGLISH, "en"))

    threads = [threading.Thread(target=speak) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 4
    reference = energy_envelope(expected, MASTER_RATE, 20)
    for synthesis in results:
        assert abs(synthesis.duration_ms - len(expected) // 8) <= 20
        envelope = energy_envelope(read_master(synthesis.wav), MASTER_RATE, 20)
        assert envelope_correlation(reference, envelope) > 0.95


def test_speaking_rate_is_configurable() -> None:
    slow = EspeakEngine(words_per_minute=120).synthesise(ENGLISH, "en")
    fast = EspeakEngine(words_per_minute=220).synthesise(ENGLISH, "en")
    assert slow.duration_ms > 1.4 * fast.duration_ms


# --- requests that no engine may accept -------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\t ", "...!?", "\x00\x07\u200b"])
def test_empty_text_is_refused(text: str) -> None:
    with pytest.raises(errors.TtsTextEmpty) as caught:
        EspeakEngine().synthesise(text, "sv")
    assert caught.value.code == "tts_text_empty"


def test_too_long_text_is_refused() -> None:
    with pytest.raises(errors.TtsTextTooLong) as caught:
        EspeakEngine().synthesise("ord " * 400, "sv")
    assert "1000" in caught.value.message
    with pytest.raises(errors.TtsTextTooLong):
        EspeakEngine(max_chars=10).synthesise("elva tecken", "sv")


@pytest.mark.parametrize("language", ["de", "sv-SE", "SV", "", "en_US"])
def test_unknown_language_is_refused_clearly(language: str) -> None:
    with pytest.raises(errors.TtsLanguageUnsupported) as caught:
        EspeakEngine().synthesise("Hej", language)
    assert "'sv' (Swedish) or 'en' (English)" in caught.value.message


def test_text_is_cleaned_of_control_characters_and_extra_space() -> None:
    assert check_request("  Hej\x00 och\n\n  välkommen\u200b!  ", "sv") == "Hej och välkommen !"


def test_bad_requests_do_not_fall_through_to_the_next_engine() -> None:
    internet = UnreachableInternet()
    tts = FallbackTts([EspeakEngine(), GttsEngine(fetch=internet)])
    with pytest.raises(errors.TtsLanguageUnsupported):
        tts.synthesise("Hallo", "de")
    assert internet.calls == 0


# --- gTTS and falling back ----------------------------------------------------------------------


def test_gtts_audio_is_normalised_and_labelled() -> None:
    synthesis = GttsEngine(fetch=google_like_mp3).synthesise(ENGLISH, "en")

    assert (synthesis.engine, synthesis.language) == ("gtts", "en")
    assert synthesis.audio.input_format == "mp3"
    assert_master(synthesis)
    assert abs(synthesis.duration_ms - 1500) < 150


def test_fallback_uses_gtts_when_the_internet_answers() -> None:
    tts = FallbackTts([GttsEngine(fetch=google_like_mp3), EspeakEngine()])
    assert tts.synthesise(SWEDISH, "sv").engine == "gtts"


def test_offline_gtts_falls_back_to_espeak_within_a_second() -> None:
    """Real gTTS, real network stack: these machines have no internet."""
    if machine_is_online():
        # CI machines have no internet (DESIGN.md): there this path must run, never skip.
        reason = "this machine reaches Google; the offline path cannot be shown here"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(f"{reason} (outside CI only)")
    gtts = GttsEngine(timeout_s=0.5)
    tts = FallbackTts([gtts, EspeakEngine()])

    started = time.perf_counter()
    synthesis = tts.synthesise(SWEDISH, "sv")
    first = time.perf_counter() - started
    started = time.perf_counter()
    with pytest.raises(errors.TtsUnavailable):
        gtts.synthesise(SWEDISH, "sv")
    second = time.perf_counter() - started

    assert synthesis.engine == "espeak"
    assert first < 1.0
    assert gtts.down
    assert second < 0.05  # the outage is remembered: no network at all


def test_a_silent_network_is_abandoned_at_the_deadline() -> None:
    """No answer at all (a black-holed route, a hanging DNS lookup) costs ~timeout_s only."""
    internet = UnreachableInternet(delay_s=3.0)
    tts = FallbackTts([GttsEngine(timeout_s=0.3, fetch=internet), EspeakEngine()])

    started = time.perf_counter()
    synthesis = tts.synthesise(ENGLISH, "en")
    assert time.perf_counter() - started < 1.0
    assert synthesis.engine == "espeak"


def test_an_outage_is_remembered_for_its_window_then_retried() -> None:
    clock, internet = FakeClock(), UnreachableInternet()
    gtts = GttsEngine(outage_s=60, clock=clock, fetch=internet)

    for _ in range(3):
        with pytest.raises(errors.TtsUnavailable):
            gtts.synthesise("Hej", "sv")
    assert internet.calls == 1
    clock.now += 59
    assert gtts.down
    clock.now += 2
    assert not gtts.down
    with pytest.raises(errors.TtsUnavailable):
        gtts.synthesise("Hej", "sv")
    assert internet.calls == 2


def test_unusable_audio_from_the_service_is_not_passed_on() -> None:
    def html_instead_of_mp3(text: str, language: str, timeout_s: float) -> bytes:
        return b"<html><body>Our systems have detected unusual traffic</body></html>"

    tts = FallbackTts([GttsEngine(fetch=html_instead_of_mp3), EspeakEngine()])
    assert tts.synthesise("Hej", "sv").engine == "espeak"


def test_when_every_engine_fails_the_error_says_so() -> None:
    tts = FallbackTts([GttsEngine(fetch=UnreachableInternet())])
    with pytest.raises(errors.TtsUnavailable) as caught:
        tts.synthesise("Hej", "sv")
    assert caught.value.code == "tts_unavailable"
    assert "gtts" in caught.value.detail and "Name or service" in caught.value.detail


def test_build_tts_follows_the_configured_order() -> None:
    tts = build_tts(["espeak", "gtts"])
    assert [engine.name for engine in tts.engines] == ["espeak", "gtts"]
    assert tts.synthesise("Hej", "sv").engine == "espeak"
    with pytest.raises(ValueError, match="polly"):
        build_tts(["gtts", "polly"])
    with pytest.raises(ValueError):
        FallbackTts([])


def test_swedish_prompt_sounds_like_speech_not_noise() -> None:
    """Speech has syllables: its envelope is far from flat and unlike white noise."""
    samples = read_master(EspeakEngine().synthesise(SWEDISH, "sv").wav)
    envelope = energy_envelope(samples, MASTER_RATE, 20)
    noise = energy_envelope(np.random.default_rng(0).normal(0, 3000, len(samples)), 8000, 20)

    assert envelope.std() / envelope.mean() > 0.5
    assert envelope_correlation(envelope, noise) < 0.3
