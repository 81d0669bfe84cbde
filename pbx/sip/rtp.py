"""RTP packets (RFC 3550 §5.1) and the modular arithmetic of sequence numbers and timestamps.

Parsing skips what we never use (CSRC list, header extension) and removes padding; anything
that is not version 2 or is shorter than its own header raises RtpError, and the edge drops
the datagram. Building writes the fixed 12-byte header only.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pbx.sip.errors import RtpError

HEADER = struct.Struct("!BBHII")
SEQ_MOD = 1 << 16
TS_MOD = 1 << 32
SAMPLES_PER_FRAME = 160  # 20 ms at 8 kHz
MAX_PAYLOAD = 1500


@dataclass(frozen=True, slots=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False

    def to_bytes(self) -> bytes:
        return build(self.payload_type, self.sequence, self.timestamp, self.ssrc,
                     self.payload, marker=self.marker)  # fmt: skip


def build(pt: int, seq: int, ts: int, ssrc: int, payload: bytes, *, marker: bool = False) -> bytes:
    """The 12-byte header (v2, no padding, extension or CSRC) followed by `payload`."""
    second = (0x80 if marker else 0) | (pt & 0x7F)
    return HEADER.pack(0x80, second, seq % SEQ_MOD, ts % TS_MOD, ssrc & 0xFFFFFFFF) + payload


def parse(data: bytes) -> RtpPacket:
    if len(data) < HEADER.size:
        raise RtpError("shorter than an RTP header")
    first, second, seq, ts, ssrc = HEADER.unpack_from(data)
    if first >> 6 != 2:
        raise RtpError("not RTP version 2")
    offset = HEADER.size + 4 * (first & 0x0F)  # CSRC list
    if first & 0x10:  # header extension: 16-bit profile, 16-bit length in words
        if len(data) < offset + 4:
            raise RtpError("truncated header extension")
        (words,) = struct.unpack_from("!H", data, offset + 2)
        offset += 4 + 4 * words
    end = len(data)
    if first & 0x20:  # padding: the last byte says how many bytes to drop
        end -= data[-1] if data else 0
    if offset > end or (first & 0x20 and data[-1] == 0):
        raise RtpError("header or padding longer than the packet")
    return RtpPacket(second & 0x7F, seq, ts, ssrc, bytes(data[offset:end]), bool(second & 0x80))


def seq_delta(newer: int, older: int) -> int:
    """Signed distance from `older` to `newer` across the 16-bit wrap (-32768..32767)."""
    return (newer - older + SEQ_MOD // 2) % SEQ_MOD - SEQ_MOD // 2


def ts_delta(newer: int, older: int) -> int:
    """Signed distance between two 32-bit timestamps across the wrap."""
    return (newer - older + TS_MOD // 2) % TS_MOD - TS_MOD // 2


def seq_after(a: int, b: int) -> bool:
    """Whether sequence number `a` comes after `b` (RFC 3550 A.1 arithmetic)."""
    return seq_delta(a, b) > 0
