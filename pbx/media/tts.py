"""Text-to-speech behind one interface: gTTS when the internet answers, espeak-ng otherwise.

Every engine returns a `Synthesis`: master audio (already normalised like an upload), the
engine's name (stored with the message version) and the language. `FallbackTts` tries its
engines in order and falls through on `TtsUnavailable` only; a bad request (empty text,
unknown language) fails at once, whatever the engine.

gTTS needs Google's web service. It runs with a short timeout under a hard deadline, writes
to memory only, and after a failure it remembers the outage for `outage_s` seconds and fails
at once without touching the network, so pages that offer text-to-speech stay fast offline.
"""

from __future__ import annotations

import io
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from pbx.media.audio import MasterAudio, normalise_audio
from pbx.media.errors import (
    AudioError,
    TtsLanguageUnsupported,
    TtsTextEmpty,
    TtsTextTooLong,
    TtsUnavailable,
)
from pbx.media.espeak import EspeakFailure, EspeakLibrary
from pbx.media.wav import encode_wav

LANGUAGES = {"sv": "Swedish", "en": "English"}
MAX_TEXT_CHARS = 1000
MAX_SPEECH_SECONDS = 300.0
MAX_SPEECH_BYTES = 50_000_000

Clock = Callable[[], float]
Fetch = Callable[[str, str, float], bytes]  # (text, language, timeout_s) → MP3 bytes


@dataclass(frozen=True)
class Synthesis:
    """Spoken text in the master format, and which engine spoke it."""

    audio: MasterAudio
    engine: str
    language: str

    @property
    def wav(self) -> bytes:
        return self.audio.wav

    @property
    def duration_ms(self) -> int:
        return self.audio.duration_ms


class TextToSpeech(Protocol):
    """Anything that turns text in a supported language into master audio."""

    name: str

    def synthesise(self, text: str, language: str) -> Synthesis: ...


def check_request(text: str, language: str, *, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Validate a request; return the text cleaned of control characters and extra spaces."""
    if language not in LANGUAGES:
        raise TtsLanguageUnsupported(
            f"Text-to-speech does not support the language {language!r}; "
            "use 'sv' (Swedish) or 'en' (English)."
        )
    cleaned = " ".join(
        "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text).split()
    )
    cleaned = unicodedata.normalize("NFC", cleaned)
    if not cleaned or not any(c.isalnum() for c in cleaned):
        raise TtsTextEmpty()
    if len(cleaned) > max_chars:
        raise TtsTextTooLong(
            f"The text is {len(cleaned)} characters; text-to-speech takes at most {max_chars}."
        )
    return cleaned


def to_master(data: bytes) -> MasterAudio:
    """Normalise an engine's output exactly like an upload."""
    return normalise_audio(data, max_bytes=MAX_SPEECH_BYTES, max_seconds=MAX_SPEECH_SECONDS)


class EspeakEngine:
    """Offline speech from the bundled espeak-ng (voices `sv` and `en`)."""

    name = "espeak"
    voices = {"sv": "sv", "en": "en"}

    def __init__(self, *, words_per_minute: int = 160, max_chars: int = MAX_TEXT_CHARS) -> None:
        self.words_per_minute = words_per_minute
        self.max_chars = max_chars

    def synthesise(self, text: str, language: str) -> Synthesis:
        cleaned = check_request(text, language, max_chars=self.max_chars)
        try:
            library = EspeakLibrary.shared()
            pcm = library.synthesise(
                cleaned, self.voices[language], words_per_minute=self.words_per_minute
            )
            audio = to_master(encode_wav(np.frombuffer(pcm.data, dtype="<i2"), pcm.rate))
        except (OSError, EspeakFailure, AudioError) as exc:
            raise TtsUnavailable("The offline speech engine failed.", detail=str(exc)) from exc
        return Synthesis(audio, self.name, language)


class GttsEngine:
    """Google Translate's speech (through gTTS); needs the internet."""

    name = "gtts"

    def __init__(
        self,
        *,
        timeout_s: float = 2.0,
        outage_s: float = 300.0,
        clock: Clock = time.monotonic,
        fetch: Fetch | None = None,
        max_chars: int = MAX_TEXT_CHARS,
    ) -> None:
        self.timeout_s = timeout_s
        self.outage_s = outage_s
        self.max_chars = max_chars
        self._clock = clock
        self._fetch = fetch or fetch_gtts_mp3
        self._lock = threading.Lock()
        self._down_until = float("-inf")

    def synthesise(self, text: str, language: str) -> Synthesis:
        cleaned = check_request(text, language, max_chars=self.max_chars)
        self._raise_if_down()
        try:
            mp3 = call_with_deadline(self._fetch, cleaned, language, self.timeout_s)
        except Exception as exc:  # the network, DNS, HTTP, gTTS itself: all mean "not now"
            self._mark_down()
            message = "The online speech service is unreachable."
            raise TtsUnavailable(message, detail=str(exc)) from exc
        try:
            audio = to_master(mp3)
        except AudioError as exc:
            raise TtsUnavailable("The online speech service sent unusable audio.") from exc
        return Synthesis(audio, self.name, language)

    @property
    def down(self) -> bool:
        """True while a recent failure is remembered (no network is tried)."""
        with self._lock:
            return self._clock() < self._down_until

    def _raise_if_down(self) -> None:
        if self.down:
            raise TtsUnavailable(
                "The online speech service was unreachable moments ago; not retrying yet."
            )

    def _mark_down(self) -> None:
        with self._lock:
            self._down_until = self._clock() + self.outage_s


class FallbackTts:
    """Try engines in order; the Synthesis says which one spoke."""

    name = "fallback"

    def __init__(self, engines: Sequence[TextToSpeech]) -> None:
        if not engines:
            raise ValueError("FallbackTts needs at least one engine")
        self.engines = tuple(engines)

    def synthesise(self, text: str, language: str) -> Synthesis:
        failures = []
        for engine in self.engines:
            try:
                return engine.synthesise(text, language)
            except TtsUnavailable as exc:
                failures.append(f"{engine.name}: {exc.message} {exc.detail}".strip())
        raise TtsUnavailable(detail="; ".join(failures))


def build_tts(engine_names: Sequence[str], *, gtts_timeout_s: float = 2.0) -> FallbackTts:
    """Engines by name, in order ("gtts", "espeak"), as set in `Settings.tts_engines`."""
    factories: dict[str, Callable[[], TextToSpeech]] = {
        "gtts": lambda: GttsEngine(timeout_s=gtts_timeout_s),
        "espeak": EspeakEngine,
    }
    unknown = [name for name in engine_names if name not in factories]
    if unknown:
        raise ValueError(f"unknown text-to-speech engine(s): {', '.join(unknown)}")
    return FallbackTts([factories[name]() for name in engine_names])


def fetch_gtts_mp3(text: str, language: str, timeout_s: float) -> bytes:
    """The real outside world: ask Google Translate's speech endpoint, into memory."""
    from gtts import gTTS

    buffer = io.BytesIO()
    gTTS(text, lang=language, lang_check=False, timeout=timeout_s).write_to_fp(buffer)
    return buffer.getvalue()


def call_with_deadline(fetch: Fetch, text: str, language: str, timeout_s: float) -> bytes:
    """Run `fetch` but give up after about `timeout_s`, even if DNS hangs (no timeout there).

    The abandoned thread is a daemon and ends when the resolver gives up; the outage memory
    keeps further calls from starting new ones meanwhile.
    """
    outcome: list[bytes | BaseException] = []

    def run() -> None:
        try:
            outcome.append(fetch(text, language, timeout_s))
        except BaseException as exc:  # handed over to the caller below
            outcome.append(exc)

    worker = threading.Thread(target=run, name="gtts-fetch", daemon=True)
    worker.start()
    worker.join(timeout_s + 0.25)
    if not outcome:
        raise TimeoutError(f"no answer within {timeout_s} s")
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]
