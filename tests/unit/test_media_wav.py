"""The small audio helpers: master WAVs for prompts and demo data, and envelope comparison."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from pbx.media import errors
from pbx.media.audio import (
    MASTER_RATE,
    concat,
    duration_ms,
    energy_envelope,
    envelope_correlation,
    read_master,
    silence,
    tone,
)
from tests.unit.test_media_audio import spectrum_db, speech_like


def stereo_wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(MASTER_RATE)
        out.writeframes(bytes(400))
    return buffer.getvalue()


def test_tone_silence_and_concat_make_masters() -> None:
    beep = tone(425, 400)
    joined = concat(silence(250), beep, silence(250))

    assert duration_ms(beep) == 400
    assert duration_ms(joined) == 900
    samples = read_master(joined)
    assert samples.dtype == np.int16 and len(samples) == 7200
    assert not samples[:2000].any() and samples[2000:5200].any()
    assert abs(int(np.abs(read_master(beep)).max()) - 16422) < 200  # −6 dBFS
    assert spectrum_db(read_master(beep), 425) - spectrum_db(read_master(beep), 1500) > 40


def test_tone_starts_and_ends_without_a_click() -> None:
    samples = np.abs(read_master(tone(1000, 200)).astype(np.int32))
    peak = samples.max()
    assert samples[:10].max() < 0.3 * peak and samples[-10:].max() < 0.3 * peak  # ramped


def test_read_master_refuses_other_formats() -> None:
    with pytest.raises(errors.NotMasterAudio):
        read_master(tone(440, 100, rate=22050))
    with pytest.raises(errors.NotMasterAudio):
        read_master(stereo_wav())
    with pytest.raises(errors.AudioUndecodable):
        read_master(b"RIFF....WAVEjunk")
    with pytest.raises(ValueError):
        concat(tone(440, 100), tone(440, 100, rate=16000))
    with pytest.raises(ValueError):
        concat()


def test_envelope_correlation_ignores_gain_and_tolerates_a_shift() -> None:
    x = speech_like(3.0, MASTER_RATE)
    a = energy_envelope(x, MASTER_RATE, 20)
    shifted = energy_envelope(np.concatenate([np.zeros(480), 0.1 * x]), MASTER_RATE, 20)
    noise = energy_envelope(np.random.default_rng(3).normal(0, 0.1, len(x)), MASTER_RATE, 20)

    assert envelope_correlation(a, a) == pytest.approx(1.0)
    assert envelope_correlation(a, shifted) < 0.9
    assert envelope_correlation(a, shifted, max_lag=5) > 0.99
    assert envelope_correlation(a, noise, max_lag=5) < 0.3
    assert envelope_correlation(a, np.zeros_like(a)) == 0.0


def test_energy_envelope_scales_int16_to_full_scale() -> None:
    full = np.full(800, 32767, dtype=np.int16)
    assert energy_envelope(full, MASTER_RATE, 10) == pytest.approx(np.ones(10), abs=1e-3)
    assert energy_envelope(full.astype(np.float64) / 32768, MASTER_RATE, 10)[0] == pytest.approx(
        1.0, abs=1e-3
    )
