"""Audio uploads → master audio (8 kHz mono 16-bit PCM WAV), and small audio helpers.

`normalise_audio` is the one way audio enters the switchboard: uploads, browser recordings,
phone recordings and text-to-speech all pass through it. The steps:

1. size limits (zero bytes, too many bytes) before anything is parsed;
2. the container is identified by its leading bytes (`sniff`), never by name or MIME type;
3. ffmpeg decodes with that demuxer only, resamples to 8 kHz with a proper anti-alias filter
   and stops a little past the duration limit (`decoder`);
4. leading/trailing silence is trimmed and loudness normalised (`levels`);
5. the master WAV is written in memory.

Any failure raises a specific `AudioError`; nothing is written anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pbx.media.decoder import decode
from pbx.media.errors import AudioEmpty, AudioTooLarge, AudioTooLong
from pbx.media.levels import energy_envelope, envelope_correlation, trim_and_level
from pbx.media.sniff import sniff_audio
from pbx.media.wav import (
    MASTER_CONTENT_TYPE,
    MASTER_RATE,
    concat,
    duration_ms,
    encode_wav,
    read_master,
    silence,
    tone,
)

__all__ = [
    "MASTER_RATE",
    "MasterAudio",
    "concat",
    "duration_ms",
    "energy_envelope",
    "envelope_correlation",
    "normalise_audio",
    "read_master",
    "silence",
    "tone",
]

DEFAULT_TIMEOUT_S = 20.0
DURATION_TOLERANCE_MS = 250  # codec padding: a file of exactly the limit must still pass


@dataclass(frozen=True)
class MasterAudio:
    """A normalised recording in the master format, with figures describing it."""

    wav: bytes
    duration_ms: int
    input_format: str  # what the content turned out to be: "mp3", "ogg/opus", "m4a/aac"…
    input_duration_ms: int  # decoded length before trimming
    peak_dbfs: float
    rms_dbfs: float
    gain_db: float  # applied by loudness normalisation
    content_type: ClassVar[str] = MASTER_CONTENT_TYPE


def normalise_audio(
    data: bytes,
    *,
    max_bytes: int,
    max_seconds: float,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> MasterAudio:
    """Decode `data` by content and return it as master audio, or raise an AudioError."""
    _check_size(data, max_bytes)
    container = sniff_audio(data)
    decoded = decode(data, container, max_seconds=max_seconds, timeout_s=timeout_s)
    if decoded.decoded_ms > max_seconds * 1000 + DURATION_TOLERANCE_MS:
        raise AudioTooLong(f"The audio is longer than the limit of {max_seconds:g} seconds.")
    if len(decoded.samples) == 0:
        raise AudioEmpty("The audio file contains no sound (zero length).")
    levelled = trim_and_level(decoded.samples, MASTER_RATE)
    codec = decoded.codec
    return MasterAudio(
        wav=encode_wav(levelled.samples),
        duration_ms=len(levelled.samples) * 1000 // MASTER_RATE,
        input_format=container.name if codec == container.name else f"{container.name}/{codec}",
        input_duration_ms=decoded.decoded_ms,
        peak_dbfs=levelled.peak_dbfs,
        rms_dbfs=levelled.rms_dbfs,
        gain_db=levelled.gain_db,
    )


def _check_size(data: bytes, max_bytes: int) -> None:
    if not data:
        raise AudioEmpty("The audio file is empty (0 bytes).")
    if len(data) > max_bytes:
        raise AudioTooLarge(
            f"The audio file is {_megabytes(len(data))}; the limit is {_megabytes(max_bytes)}."
        )


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
