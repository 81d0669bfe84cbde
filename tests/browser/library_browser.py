"""What the message library's browser tests share: the WAV that is the fake microphone,
signing in through the real pages, and comparing a stored master with the audio fed.

The fed file is speech-like sound between stretches of silence. Chromium plays it into
getUserMedia from the start each time a recording opens the microphone (`%noloop`: once, then
silence), so a take holds the sound after the softphone's start-up latency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from flask import Flask

from pbx.media.audio import energy_envelope, envelope_correlation, normalise_audio, read_master
from tests.library_media import speech_like, wav_bytes
from tests.web.accounts import totp_code

FED_RATE = 48_000
LEAD_S, SPEECH_S, TAIL_S = 0.4, 4.0, 6.0
WINDOW_MS = 20
MAX_LAG_WINDOWS = 40  # 0.8 s of start-up latency absorbed


def fed_audio() -> bytes:
    lead, tail = np.zeros(int(LEAD_S * FED_RATE)), np.zeros(int(TAIL_S * FED_RATE))
    speech = speech_like(SPEECH_S, rate=FED_RATE, seed=11)
    return wav_bytes(np.concatenate([lead, speech, tail]), rate=FED_RATE)


def sign_in(
    page: Any, app: Flask, base_url: str, email: str, password: str, totp: str | None
) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")
    if totp:
        page.fill("#code", totp_code(app, email, totp))
        page.click("#totp-form button[type=submit]")
    assert page.locator("#logout").count() == 1


@dataclass(frozen=True)
class Match:
    duration_ratio: float
    correlation: float


def compare_with_fed(master_wav: bytes) -> Match:
    """How well a stored master matches the fed sound (both normalised the same way)."""
    fed = normalise_audio(fed_audio(), max_bytes=10**8, max_seconds=60)
    stored, expected = read_master(master_wav), read_master(fed.wav)
    ratio = len(stored) / len(expected)
    a = energy_envelope(stored, 8000, WINDOW_MS)
    b = energy_envelope(expected, 8000, WINDOW_MS)
    return Match(ratio, envelope_correlation(a, b, max_lag=MAX_LAG_WINDOWS))
