"""Keys: RFC 4733 telephone-events in RTP, and SIP INFO bodies.

A key press travels as several RTP packets with the *same timestamp* (the event's start):
updates while the key is held and the end packet, sent three times because RTP is lossy.
`DtmfReceiver` therefore reports a key once per timestamp, on the first packet it sees
(prompt barge-in should not wait for the key to be released).
"""

from __future__ import annotations

import re
import struct
from collections import deque
from dataclasses import dataclass

from pbx.sip.errors import DtmfError
from pbx.sip.rtp import RtpPacket, build

EVENTS = "0123456789*#ABCD"
END_REPEATS = 3
_PAYLOAD = struct.Struct("!BBH")


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    event: int
    end: bool
    volume: int
    duration: int  # in timestamp units (samples at 8 kHz)

    @property
    def key(self) -> str | None:
        """The key (0-9, *, #, A-D), or None for events that are not keys (flash...)."""
        return EVENTS[self.event] if self.event < len(EVENTS) else None


def parse_event(payload: bytes) -> TelephoneEvent:
    if len(payload) < _PAYLOAD.size:
        raise DtmfError("telephone-event payload shorter than 4 bytes")
    event, flags, duration = _PAYLOAD.unpack_from(payload)
    return TelephoneEvent(event, bool(flags & 0x80), flags & 0x3F, duration)


def event_payload(key: str, *, end: bool, duration: int, volume: int = 10) -> bytes:
    if len(key) != 1 or key not in EVENTS:
        raise DtmfError(f"not a key: {key!r}")
    return _PAYLOAD.pack(EVENTS.index(key), (0x80 if end else 0) | (volume & 0x3F), duration)


def key_packets(
    key: str, *, pt: int, seq: int, timestamp: int, ssrc: int, frames: int = 5
) -> list[bytes]:
    """A key as RTP: `frames` updates 20 ms apart (the first with the marker), then the end
    packet three times. All share `timestamp`; sequence numbers run on from `seq`."""
    out = []
    for i in range(frames):
        payload = event_payload(key, end=False, duration=160 * (i + 1))
        out.append(build(pt, seq + i, timestamp, ssrc, payload, marker=i == 0))
    end = event_payload(key, end=True, duration=160 * frames)
    out += [build(pt, seq + frames + i, timestamp, ssrc, end) for i in range(END_REPEATS)]
    return out


class DtmfReceiver:
    """Reports each key once. Pure state: remembers the last few event timestamps."""

    def __init__(self, payload_type: int | None) -> None:
        self.payload_type = payload_type
        self._seen: deque[tuple[int, int]] = deque(maxlen=16)

    def feed(self, packet: RtpPacket) -> str | None:
        """The key newly pressed in `packet`, or None (not a key packet, or seen already)."""
        if self.payload_type is None or packet.payload_type != self.payload_type:
            return None
        try:
            event = parse_event(packet.payload)
        except DtmfError:
            return None
        ident = (packet.ssrc, packet.timestamp)
        if event.key is None or ident in self._seen:
            return None
        self._seen.append(ident)
        return event.key


_RELAY = re.compile(r"(?im)^\s*signal\s*=\s*(\S+)\s*$")
INFO_TYPES = ("application/dtmf-relay", "application/dtmf")


def parse_info(content_type: str, body: bytes) -> str:
    """The key in a SIP INFO body: `application/dtmf-relay` ("Signal=5\\r\\nDuration=160")
    or `application/dtmf` ("5"). Raises DtmfError for anything else."""
    text = body.decode("utf-8", "replace")
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/dtmf-relay":
        m = _RELAY.search(text)
        value = m.group(1) if m else ""
    elif kind == "application/dtmf":
        value = text.strip()
    else:
        raise DtmfError(f"not a key body: {kind!r}")
    if value.isdigit() and len(value) <= 2 and int(value) < len(EVENTS):
        value = EVENTS[int(value)] if len(value) == 2 else value  # "10" means *, "11" #
    if len(value) != 1 or value.upper() not in EVENTS:
        raise DtmfError(f"not a key: {value[:10]!r}")
    return value.upper()


def info_body(key: str, duration_ms: int = 160) -> bytes:
    """An `application/dtmf-relay` body for an outgoing INFO."""
    if len(key) != 1 or key not in EVENTS:
        raise DtmfError(f"not a key: {key!r}")
    return f"Signal={key}\r\nDuration={duration_ms}\r\n".encode("ascii")
