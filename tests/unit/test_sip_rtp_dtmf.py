"""RTP packets and RFC 4733 / SIP INFO keys (pure)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pbx.sip import dtmf, rtp
from pbx.sip.errors import DtmfError, RtpError


def test_build_and_parse_round_trip() -> None:
    data = rtp.build(0, 65535, 2**32 - 1, 0xDEADBEEF, b"\xff" * 160, marker=True)
    packet = rtp.parse(data)
    assert packet == rtp.RtpPacket(0, 65535, 2**32 - 1, 0xDEADBEEF, b"\xff" * 160, True)
    assert packet.to_bytes() == data


def test_csrc_extension_and_padding_are_skipped() -> None:
    csrc = struct.pack("!II", 1, 2)
    ext = struct.pack("!HH", 0xBEDE, 1) + b"\x00" * 4
    head = struct.pack("!BBHII", 0x80 | 0x20 | 0x10 | 2, 8, 1, 2, 3)
    packet = rtp.parse(head + csrc + ext + b"abc" + b"\x00\x00\x03")
    assert packet.payload == b"abc" and packet.payload_type == 8


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x80" * 11,
        b"\x40" + b"\x00" * 20,
        b"\x8f" + b"\x00" * 20,
        struct.pack("!BBHII", 0x90, 0, 0, 0, 0) + b"\x00\x01",
        struct.pack("!BBHII", 0xA0, 0, 0, 0, 0) + b"\x05",
        struct.pack("!BBHII", 0xA0, 0, 0, 0, 0) + b"\x00",
    ],
)
def test_bad_packets_raise_rtp_error(data: bytes) -> None:
    with pytest.raises(RtpError):
        rtp.parse(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_datagrams_raise_only_rtp_error(data: bytes) -> None:
    try:
        rtp.parse(data)
    except RtpError:
        pass


def test_sequence_and_timestamp_wrap() -> None:
    assert rtp.seq_delta(2, 65534) == 4 and rtp.seq_after(0, 65535)
    assert not rtp.seq_after(65535, 0) and rtp.seq_delta(5, 5) == 0
    assert rtp.ts_delta(100, 2**32 - 60) == 160


def test_key_packets_report_one_key_each() -> None:
    receiver = dtmf.DtmfReceiver(101)
    keys = []
    for i, key in enumerate("15*#"):
        for data in dtmf.key_packets(key, pt=101, seq=10 * i, timestamp=1000 * i, ssrc=9):
            keys.append(receiver.feed(rtp.parse(data)))
    assert [k for k in keys if k] == ["1", "5", "*", "#"]
    packets = dtmf.key_packets("7", pt=101, seq=0, timestamp=0, ssrc=1)
    events = [dtmf.parse_event(rtp.parse(p).payload) for p in packets]
    assert [e.end for e in events].count(True) == dtmf.END_REPEATS
    assert rtp.parse(packets[0]).marker and events[-1].duration == 800


def test_receiver_ignores_voice_and_other_types() -> None:
    receiver = dtmf.DtmfReceiver(101)
    assert receiver.feed(rtp.parse(rtp.build(0, 1, 1, 1, b"\x00\x00\x00\x00"))) is None
    assert receiver.feed(rtp.parse(rtp.build(101, 1, 1, 1, b"\x00"))) is None
    assert receiver.feed(rtp.parse(rtp.build(101, 1, 1, 1, b"\x10\x80\x00\xa0"))) is None  # flash
    assert (
        dtmf.DtmfReceiver(None).feed(rtp.parse(rtp.build(101, 1, 1, 1, b"\x05\x00\x00\xa0")))
        is None
    )


@pytest.mark.parametrize(
    ("ctype", "body", "key"),
    [
        ("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n", "5"),
        ("application/dtmf-relay", b"signal= #\r\n", "#"),
        ("Application/DTMF-Relay; charset=x", b"Signal=*\r\n", "*"),
        ("application/dtmf-relay", b"Signal=11\r\n", "#"),
        ("application/dtmf", b"7", "7"),
        ("application/dtmf", b" 0\r\n", "0"),
    ],
)
def test_info_bodies(ctype: str, body: bytes, key: str) -> None:
    assert dtmf.parse_info(ctype, body) == key


@pytest.mark.parametrize(
    ("ctype", "body"),
    [
        ("application/dtmf-relay", b"Duration=160"),
        ("application/dtmf-relay", b"Signal=55"),
        ("application/dtmf", b"x"),
        ("text/plain", b"5"),
        ("application/dtmf", b""),
    ],
)
def test_bad_info_bodies(ctype: str, body: bytes) -> None:
    with pytest.raises(DtmfError):
        dtmf.parse_info(ctype, body)


def test_info_body_parses_back() -> None:
    assert dtmf.parse_info("application/dtmf-relay", dtmf.info_body("9")) == "9"
    with pytest.raises(DtmfError):
        dtmf.info_body("x")
