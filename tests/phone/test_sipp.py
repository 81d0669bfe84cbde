"""Real SIPp against the transport and a media endpoint (127.0.0.1 only).

The call layer comes later; a throwaway UAS here answers just enough (INVITE → 200 with an
SDP answer, ACK, BYE → 200) to let SIPp stream RTP to a `MediaEndpoint`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from pbx.phone.endpoint import Capture, MediaEndpoint
from pbx.phone.media import MediaConfig, MediaEngine
from pbx.phone.transport import Peer, SipTransport, TransportConfig
from pbx.sip import g711, rtp
from pbx.sip.build import response_to
from pbx.sip.message import SipRequest, SipResponse
from pbx.sip.sdp import SDP_CONTENT_TYPE, answer_offer, parse_sdp
from tests.phone.peers import run, sipp, write_pcap
from tests.phone.test_media import PORTS


class OptionsOnly:
    def __init__(self) -> None:
        self.transport: SipTransport | None = None
        self.options = 0

    def __call__(self, message: SipRequest | SipResponse, peer: Peer) -> None:
        if isinstance(message, SipRequest) and message.method == "OPTIONS":
            self.options += 1
            assert self.transport is not None
            self.transport.send(response_to(message, 200, "OK"), peer)


def test_sipp_options_and_garbage() -> None:
    async def scenario() -> None:
        handler = OptionsOnly()
        transport = SipTransport(handler, TransportConfig(port=0))
        handler.transport = transport
        await transport.start()
        try:
            await sipp("options_and_garbage.xml", transport.port, "-t", "u1")
            await sipp("options_tcp.xml", transport.port, "-t", "t1")
        finally:
            await transport.close()
        assert handler.options == 4
        assert transport.stats.error_answers == 4 and transport.stats.dropped >= 1

    run(scenario())


class TinyUas:
    """Answers one INVITE with our SDP answer, captures the caller's audio until BYE."""

    def __init__(self, media: MediaEngine) -> None:
        self.media = media
        self.transport: SipTransport | None = None
        self.endpoint: MediaEndpoint | None = None
        self.keys: list[str] = []
        self.capture: Capture | None = None
        self.done = asyncio.Event()

    def __call__(self, message: SipRequest | SipResponse, peer: Peer) -> None:
        if not isinstance(message, SipRequest) or self.transport is None:
            return
        if message.method == "INVITE" and self.endpoint is None:
            self.endpoint = self.media.open_endpoint(message.call_id)
            self.endpoint.on_key = self.keys.append
            body, choice = answer_offer(
                parse_sdp(message.body), port=self.endpoint.local_port, session_id=1
            )
            self.endpoint.use(choice)
            self.endpoint.start_capture()
            ok = response_to(message, 200, "OK", body=body, content_type=SDP_CONTENT_TYPE)
            self.transport.send(ok, peer)
        elif message.method == "BYE" and self.endpoint is not None:
            self.capture = self.endpoint.stop_capture()
            self.endpoint.close()
            self.transport.send(response_to(message, 200, "OK"), peer)
            self.done.set()


def speech_like(seconds: float) -> np.ndarray:
    """A signal that is not a plain tone: two tones and a slow envelope."""
    t = np.arange(int(8000 * seconds)) / 8000
    signal = np.sin(2 * np.pi * 440 * t) + 0.5 * np.sin(2 * np.pi * 1230 * t)
    return (6000 * signal * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.int16)


def pcmu_packets(pcm: np.ndarray) -> list[bytes]:
    payload = g711.ulaw_encode(pcm)
    return [
        rtp.build(0, 100 + i, 8000 + 160 * i, 0x1234, payload[160 * i : 160 * i + 160])
        for i in range(len(payload) // 160)
    ]


def test_sipp_streams_pcmu_and_rfc2833_key_to_a_media_endpoint(tmp_path: Path) -> None:
    sent = speech_like(1.0)
    audio = tmp_path / "audio.pcap"
    # Same source port as the key pcap that ships with SIPp: one phone sends both.
    write_pcap(audio, pcmu_packets(sent), sport=49176, dport=10000)

    async def scenario() -> TinyUas:
        media = MediaEngine(MediaConfig(port_min=PORTS[0], port_max=PORTS[1]))
        await media.start()
        uas = TinyUas(media)
        transport = SipTransport(uas, TransportConfig(port=0))
        uas.transport = transport
        await transport.start()
        try:
            await sipp(
                "invite_rtp.xml", transport.port, "-t", "u1",
                "-key", "audio_pcap", str(audio),
                "-key", "dtmf_pcap", "/usr/share/sip-tester/dtmf_2833_5.pcap",
            )  # fmt: skip
            await asyncio.wait_for(uas.done.wait(), 5)
        finally:
            await transport.close()
            await media.close()
        return uas

    uas = run(scenario())
    assert uas.keys == ["5"]
    assert uas.capture is not None and not uas.capture.silent
    expected = g711.ulaw_decode(g711.ulaw_encode(sent))
    assert np.array_equal(uas.capture.pcm, expected)
    assert abs(uas.capture.seconds - 1.0) < 0.01
    assert uas.endpoint is not None and uas.endpoint.stats.foreign_packets == 0
