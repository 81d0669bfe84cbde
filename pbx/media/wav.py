"""The master audio format (8 kHz mono 16-bit PCM WAV) and small helpers built on it.

These helpers make prompts and demo data (`tone`, `silence`, `concat`) and read masters
back (`read_master`, `duration_ms`). They use the standard `wave` module only: the master
format is plain PCM, so no decoder is involved.
"""

from __future__ import annotations

import io
import wave
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pbx.media.errors import AudioUndecodable, NotMasterAudio

MASTER_RATE = 8000
MASTER_CHANNELS = 1
MASTER_SAMPLE_WIDTH = 2  # bytes: 16-bit PCM
MASTER_CONTENT_TYPE = "audio/wav"

Samples = NDArray[np.int16]


def encode_wav(samples: Samples, rate: int = MASTER_RATE) -> bytes:
    """Mono 16-bit PCM samples → WAV bytes."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(MASTER_CHANNELS)
        out.setsampwidth(MASTER_SAMPLE_WIDTH)
        out.setframerate(rate)
        out.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    return buffer.getvalue()


def read_pcm16(wav: bytes) -> tuple[Samples, int]:
    """Mono 16-bit PCM WAV bytes → (samples, rate); any other WAV is refused."""
    try:
        with wave.open(io.BytesIO(wav), "rb") as src:
            if src.getnchannels() != 1 or src.getsampwidth() != MASTER_SAMPLE_WIDTH:
                raise NotMasterAudio("Expected mono 16-bit PCM WAV.")
            rate = src.getframerate()
            frames = src.readframes(src.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioUndecodable(f"Not a readable WAV file ({exc}).") from exc
    samples = np.frombuffer(frames, dtype="<i2").astype(np.int16)
    return samples, rate


def read_master(wav: bytes) -> Samples:
    """Master WAV bytes → int16 samples at 8 kHz; anything else raises NotMasterAudio."""
    samples, rate = read_pcm16(wav)
    if rate != MASTER_RATE:
        raise NotMasterAudio(f"Expected {MASTER_RATE} Hz, got {rate} Hz.")
    return samples


def duration_ms(wav: bytes) -> int:
    """Duration of a PCM WAV in whole milliseconds (from its header)."""
    try:
        with wave.open(io.BytesIO(wav), "rb") as src:
            return src.getnframes() * 1000 // src.getframerate()
    except (wave.Error, EOFError) as exc:
        raise AudioUndecodable(f"Not a readable WAV file ({exc}).") from exc


def tone(
    freq_hz: float,
    ms: int,
    rate: int = MASTER_RATE,
    *,
    level_dbfs: float = -6.0,
    ramp_ms: int = 5,
) -> bytes:
    """A sine tone as WAV, with short raised-cosine ramps so it starts and ends without a click."""
    n = rate * ms // 1000
    t = np.arange(n, dtype=np.float64) / rate
    signal = 10 ** (level_dbfs / 20) * np.sin(2 * np.pi * freq_hz * t)
    ramp = min(n // 2, rate * ramp_ms // 1000)
    if ramp > 0:
        window = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
        signal[:ramp] *= window
        signal[n - ramp :] *= window[::-1]
    return encode_wav(to_int16(signal), rate)


def silence(ms: int, rate: int = MASTER_RATE) -> bytes:
    """Digital silence as WAV."""
    return encode_wav(np.zeros(rate * ms // 1000, dtype=np.int16), rate)


def concat(*wavs: bytes) -> bytes:
    """Join mono 16-bit WAVs of one sample rate into one WAV."""
    if not wavs:
        raise ValueError("concat() needs at least one WAV")
    parts = [read_pcm16(w) for w in wavs]
    rates = {rate for _, rate in parts}
    if len(rates) != 1:
        raise ValueError(f"concat() needs one sample rate, got {sorted(rates)}")
    return encode_wav(np.concatenate([samples for samples, _ in parts]), rates.pop())


def to_int16(signal: NDArray[np.floating[Any]]) -> Samples:
    """Float samples in [-1, 1] → int16, rounded and clipped."""
    scaled = np.rint(np.clip(signal, -1.0, 1.0) * 32767.0)
    result: Samples = scaled.astype(np.int16)
    return result
