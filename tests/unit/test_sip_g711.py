"""G.711 by table, checked against values of ITU-T G.711 and against `audioop` (pure)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pbx.sip import g711

# (linear sample, code on the wire, decoded value): the end points of ITU-T G.711's tables
# (μ-law ±8031 and A-law ±4032 in their 14-/13-bit units, scaled to 16 bits) and zero.
ULAW = [(0, 0xFF, 0), (32767, 0x80, 32124), (-32768, 0x00, -32124)]
ALAW = [(0, 0xD5, 8), (-1, 0x55, -8), (32767, 0xAA, 32256), (-32768, 0x2A, -32256)]


@pytest.mark.parametrize(("sample", "code", "decoded"), ULAW)
def test_ulaw_itu_values(sample: int, code: int, decoded: int) -> None:
    assert g711.ulaw_encode(np.array([sample], np.int16)) == bytes([code])
    assert int(g711.ulaw_decode(bytes([code]))[0]) == decoded


@pytest.mark.parametrize(("sample", "code", "decoded"), ALAW)
def test_alaw_itu_values(sample: int, code: int, decoded: int) -> None:
    assert g711.alaw_encode(np.array([sample], np.int16)) == bytes([code])
    assert int(g711.alaw_decode(bytes([code]))[0]) == decoded


def ulaw_reconstruction(code: int) -> int:
    """G.711 μ-law output level of a code: ((2m + 33) << s) - 33 in 14-bit units."""
    u = ~code & 0xFF
    s, m = (u >> 4) & 7, u & 0xF
    level = 4 * (((2 * m + 33) << s) - 33)
    return -level if u & 0x80 else level


def alaw_reconstruction(code: int) -> int:
    """G.711 A-law output level: 2m + 1 in segment 0, (2m + 33) << (s - 1) above (13 bits)."""
    a = code ^ 0x55
    s, m = (a >> 4) & 7, a & 0xF
    level = 8 * ((2 * m + 1) if s == 0 else (2 * m + 33) << (s - 1))
    return level if a & 0x80 else -level


def test_every_code_decodes_to_its_itu_reconstruction_level() -> None:
    codes = bytes(range(256))
    assert g711.ulaw_decode(codes).tolist() == [ulaw_reconstruction(c) for c in codes]
    assert g711.alaw_decode(codes).tolist() == [alaw_reconstruction(c) for c in codes]


@pytest.mark.parametrize("codec", ["PCMU", "PCMA"])
def test_encoding_is_monotonic_and_reproduces_each_level(codec: str) -> None:
    everything = np.arange(-32768, 32768, dtype=np.int64).astype(np.int16)
    levels = g711.decode(codec, g711.encode(codec, everything)).astype(np.int64)
    assert np.all(np.diff(levels) >= 0)
    codes = bytes(c for c in range(256) if not (codec == "PCMU" and c == 0x7F))  # -0 → +0
    assert g711.encode(codec, g711.decode(codec, codes)) == codes


def test_every_sample_and_code_matches_audioop() -> None:
    """audioop (CPython's C reference, still in 3.11) and the tables agree on all inputs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
    everything = np.arange(65536, dtype=np.uint16).view(np.int16)
    raw = everything.tobytes()
    assert g711.ulaw_encode(everything) == audioop.lin2ulaw(raw, 2)
    assert g711.alaw_encode(everything) == audioop.lin2alaw(raw, 2)
    codes = bytes(range(256))
    assert g711.ulaw_decode(codes).tobytes() == audioop.ulaw2lin(codes, 2)
    assert g711.alaw_decode(codes).tobytes() == audioop.alaw2lin(codes, 2)


@pytest.mark.parametrize("codec", ["PCMU", "PCMA"])
def test_round_trip_of_a_tone_stays_close(codec: str) -> None:
    t = np.arange(8000) / 8000
    pcm = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    back = g711.decode(codec, g711.encode(codec, pcm))
    assert back.dtype == np.int16 and len(back) == len(pcm)
    snr = 10 * np.log10(np.sum(pcm.astype(float) ** 2) / np.sum((pcm - back.astype(float)) ** 2))
    assert snr > 30  # G.711 gives ~38 dB on a loud sine
    assert g711.decode(codec, bytes([g711.silence(codec)]) * 4).max() <= 8


def test_codecs_are_named_as_in_sdp() -> None:
    with pytest.raises(ValueError):
        g711.encode("G729", np.zeros(2, np.int16))
    with pytest.raises(ValueError):
        g711.decode("opus", b"\0")
