"""Audio ready to send: prompt masters turned into G.711 frames once, tones, and the energy
check that tells speech from silence in a recording.

A prompt master is an 8 kHz mono 16-bit WAV (read with the standard `wave` module). The same
prompt is played to many callers, so it is converted once per codec and kept by the SHA-256
of its bytes (`PromptCache`); playing it afterwards is slicing bytes.
"""

from __future__ import annotations

import hashlib
import io
import wave
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from pbx.sip import g711

RATE = 8000
FRAME_SAMPLES = 160  # 20 ms
SILENCE_RMS = 180.0  # about -45 dBFS: quieter 20 ms frames count as silence
MIN_SPEECH_FRAMES = 10  # 200 ms of sound make a recording "not silent"
DIGESTS_KEPT = 32  # masters remembered by identity (PromptCache._digest)
ToneKind = Literal["beep", "ringback", "fallback"]

Pcm = NDArray[np.int16]


class PromptFormatError(Exception):
    """A master that is not an 8 kHz mono 16-bit PCM WAV."""


@dataclass(frozen=True, slots=True)
class Frames:
    """Encoded audio cut into 20 ms frames: `payload` is a whole number of frames."""

    codec: str
    payload: bytes

    @property
    def count(self) -> int:
        return len(self.payload) // FRAME_SAMPLES

    def frame(self, index: int) -> bytes:
        start = index * FRAME_SAMPLES
        return self.payload[start : start + FRAME_SAMPLES]


def read_master(data: bytes) -> Pcm:
    """WAV bytes → int16 samples; anything but 8 kHz mono 16-bit PCM is refused."""
    try:
        with wave.open(io.BytesIO(data), "rb") as src:
            shape = (src.getnchannels(), src.getsampwidth(), src.getframerate())
            frames = src.readframes(src.getnframes())
    except (wave.Error, EOFError) as exc:
        raise PromptFormatError(f"not a readable WAV ({exc})") from exc
    if shape != (1, 2, RATE):
        raise PromptFormatError(f"expected 8 kHz mono 16-bit, got {shape}")
    return np.frombuffer(frames, dtype="<i2").astype(np.int16)


def encode_frames(pcm: Pcm, codec: str) -> Frames:
    """Samples → frames, the last one padded with silence."""
    encoded = g711.encode(codec, pcm)
    short = -len(encoded) % FRAME_SAMPLES
    return Frames(codec.upper(), encoded + bytes([g711.silence(codec)]) * short)


class PromptCache:
    """Frames per (SHA-256 of the master, codec), least recently used dropped first."""

    def __init__(self, max_entries: int = 256) -> None:
        self._max = max_entries
        self._entries: OrderedDict[tuple[str, str], Frames] = OrderedDict()
        #: The digest of masters seen lately, by identity: the switchboard hands out the
        #: same bytes object for a cached prompt, so hashing it again on every play (on
        #: the event loop, beside the media tick) is spared. The master is kept with its
        #: digest so that its id cannot be reused while it is here (a few only: masters
        #: can be large).
        self._digests: dict[int, tuple[bytes, str]] = {}
        self.conversions = 0

    def _digest(self, master: bytes) -> str:
        known = self._digests.get(id(master))
        if known is not None and known[0] is master:
            return known[1]
        digest = hashlib.sha256(master).hexdigest()
        if len(self._digests) >= DIGESTS_KEPT:
            self._digests.clear()
        self._digests[id(master)] = (master, digest)
        return digest

    def frames(self, master: bytes, codec: str) -> Frames:
        cache_key = (self._digest(master), codec.upper())
        found = self._entries.get(cache_key)
        if found is not None:
            self._entries.move_to_end(cache_key)
            return found
        frames = encode_frames(read_master(master), codec)
        self.conversions += 1
        self._entries[cache_key] = frames
        if len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return frames

    def tone(self, kind: ToneKind, codec: str) -> Frames:
        cache_key = (f"tone:{kind}", codec.upper())
        found = self._entries.get(cache_key)
        if found is None:
            found = self._entries[cache_key] = encode_frames(tone_pcm(kind), codec)
        return found


def _sine(freqs: tuple[float, ...], ms: int, level: float = 0.3) -> Pcm:
    n = RATE * ms // 1000
    t = np.arange(n) / RATE
    wave_ = sum(np.sin(2 * np.pi * f * t) for f in freqs) / len(freqs)
    ramp = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / 40)  # 5 ms
    return (32767 * level * wave_ * ramp).astype(np.int16)


def tone_pcm(kind: ToneKind) -> Pcm:
    """beep: 1 kHz for 400 ms (before a recording); ringback: one Swedish cadence, 425 Hz
    1 s on and 5 s off (looped while a leg rings); fallback: the three rising tones of a
    special information tone (a message is missing)."""
    if kind == "beep":
        return _sine((1000.0,), 400)
    if kind == "ringback":
        return np.concatenate([_sine((425.0,), 1000), np.zeros(5 * RATE, np.int16)])
    return np.concatenate([_sine((f,), 330) for f in (950.0, 1400.0, 1800.0)])


def frame_rms(pcm: Pcm) -> NDArray[np.float64]:
    """RMS of each whole 20 ms frame."""
    whole = len(pcm) // FRAME_SAMPLES * FRAME_SAMPLES
    frames = pcm[:whole].astype(np.float64).reshape(-1, FRAME_SAMPLES)
    return np.sqrt(np.mean(frames**2, axis=1)) if whole else np.zeros(0)


def is_silent(pcm: Pcm) -> bool:
    """Whether a recording holds no speech: fewer than 200 ms of frames above -45 dBFS."""
    return int(np.count_nonzero(frame_rms(pcm) > SILENCE_RMS)) < MIN_SPEECH_FRAMES
