"""G.711 μ-law and A-law by lookup table (ITU-T G.711; the segment arithmetic of the
reference implementation, as in Sun's g711.c and CPython's `audioop`).

`audioop` leaves the standard library in Python 3.13, and a table lookup is what it did
anyway: encoding is one index into a 65,536-entry table per sample, decoding one into a
256-entry table. Tables are built once, on first use, with numpy (no import-time work).
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray

Pcm = NDArray[np.int16]

ULAW_SILENCE = 0xFF
ALAW_SILENCE = 0xD5
_ULAW_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_ALAW_SEG_END = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])


def _all_samples() -> NDArray[np.int64]:
    """Every int16 value, ordered by its unsigned bit pattern (the table index)."""
    return np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int64)


@cache
def _ulaw_encode_table() -> NDArray[np.uint8]:
    x = _all_samples() >> 2  # μ-law works on 14 bits
    mask = np.where(x < 0, 0x7F, 0xFF)
    mag = np.minimum(np.abs(x), 8159) + 0x21  # clip, then add the bias (0x84 >> 2)
    seg = np.searchsorted(_ULAW_SEG_END, mag)
    code = (seg << 4) | ((mag >> (seg + 1)) & 0xF)
    code = np.where(seg >= 8, 0x7F, code)
    return ((code ^ mask) & 0xFF).astype(np.uint8)


@cache
def _ulaw_decode_table() -> NDArray[np.int16]:
    u = ~np.arange(256, dtype=np.int64) & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, 0x84 - t, t - 0x84).astype(np.int16)


@cache
def _alaw_encode_table() -> NDArray[np.uint8]:
    x = _all_samples() >> 3  # A-law works on 13 bits
    mask = np.where(x >= 0, 0xD5, 0x55)
    mag = np.where(x >= 0, x, -x - 1)
    seg = np.searchsorted(_ALAW_SEG_END, mag)
    low = np.where(seg < 2, mag >> 1, mag >> np.maximum(seg, 1)) & 0xF
    code = np.where(seg >= 8, 0x7F, (seg << 4) | low)
    return ((code ^ mask) & 0xFF).astype(np.uint8)


@cache
def _alaw_decode_table() -> NDArray[np.int16]:
    a = np.arange(256, dtype=np.int64) ^ 0x55
    seg = (a & 0x70) >> 4
    t = (a & 0x0F) << 4
    t = np.where(seg == 0, t + 8, (t + 0x108) << np.maximum(seg - 1, 0))
    return np.where(a & 0x80, t, -t).astype(np.int16)


def _index(pcm: Pcm) -> NDArray[np.uint16]:
    return np.ascontiguousarray(pcm, dtype=np.int16).view(np.uint16)


def ulaw_encode(pcm: Pcm) -> bytes:
    """int16 samples → μ-law bytes (one byte a sample)."""
    return bytes(_ulaw_encode_table()[_index(pcm)].tobytes())


def ulaw_decode(data: bytes) -> Pcm:
    """μ-law bytes → int16 samples."""
    return _ulaw_decode_table()[np.frombuffer(data, dtype=np.uint8)]


def alaw_encode(pcm: Pcm) -> bytes:
    """int16 samples → A-law bytes (even bits inverted, as sent on the wire)."""
    return bytes(_alaw_encode_table()[_index(pcm)].tobytes())


def alaw_decode(data: bytes) -> Pcm:
    """A-law bytes → int16 samples."""
    return _alaw_decode_table()[np.frombuffer(data, dtype=np.uint8)]


def encode(codec: str, pcm: Pcm) -> bytes:
    """Encode for a codec named as in SDP: "PCMU" or "PCMA"."""
    return ulaw_encode(pcm) if codec.upper() == "PCMU" else _alaw_checked(codec, pcm)


def decode(codec: str, data: bytes) -> Pcm:
    if codec.upper() == "PCMU":
        return ulaw_decode(data)
    if codec.upper() == "PCMA":
        return alaw_decode(data)
    raise ValueError(f"not a G.711 codec: {codec!r}")


def silence(codec: str) -> int:
    """The byte that decodes to (near) zero for a codec."""
    return ULAW_SILENCE if codec.upper() == "PCMU" else ALAW_SILENCE


def _alaw_checked(codec: str, pcm: Pcm) -> bytes:
    if codec.upper() != "PCMA":
        raise ValueError(f"not a G.711 codec: {codec!r}")
    return alaw_encode(pcm)
