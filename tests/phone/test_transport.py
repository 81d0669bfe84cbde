"""The SIP transport on real UDP and TCP sockets (127.0.0.1 only)."""

from __future__ import annotations

import asyncio

import pytest

from pbx.phone.errors import RemoteAddressRefused
from pbx.phone.transport import Peer, SipTransport, TransportConfig
from pbx.sip.build import response_to
from pbx.sip.message import SipRequest, SipResponse, parse_datagram
from pbx.sip.timers import answer_retransmissions
from tests.phone.peers import LOOPBACK, UdpPeer, run
from tests.unit.sip_samples import invite, malformed, options


class Answerer:
    """A handler that answers OPTIONS with 200 and remembers everything it was given."""

    def __init__(self, transport_ref: list[SipTransport]) -> None:
        self.seen: list[tuple[SipRequest | SipResponse, Peer]] = []
        self._ref = transport_ref

    def __call__(self, message: SipRequest | SipResponse, peer: Peer) -> None:
        self.seen.append((message, peer))
        if isinstance(message, SipRequest) and message.method == "OPTIONS":
            self._ref[0].send(response_to(message, 200, "OK"), peer)
        if isinstance(message, SipRequest) and message.method == "BOOM":
            raise RuntimeError("handler bug")


async def started(**config: object) -> tuple[SipTransport, Answerer]:
    ref: list[SipTransport] = []
    answerer = Answerer(ref)
    transport = SipTransport(answerer, TransportConfig(port=0, **config))  # type: ignore[arg-type]
    ref.append(transport)
    await transport.start()
    return transport, answerer


def status_of(data: bytes) -> int:
    message = parse_datagram(data)
    assert isinstance(message, SipResponse)
    return message.status


def test_udp_options_answered_and_via_stamped() -> None:
    async def scenario() -> None:
        transport, answerer = await started()
        peer = await UdpPeer.open()
        try:
            peer.send(
                options(extra="Via: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKz;rport\r\n"),
                transport.port,
            )
            assert status_of(await peer.recv()) == 200
            message, source = answerer.seen[0]
            assert source == Peer("udp", LOOPBACK, peer.port)
            assert isinstance(message, SipRequest) and message.vias[0].received is None
            peer.send(b"\r\n\r\n", transport.port)  # keep-alive: no answer
            assert await peer.nothing()
        finally:
            peer.close()
            await transport.close()

    run(scenario())


def test_udp_malformed_corpus_is_answered_or_dropped_and_listener_survives() -> None:
    cases = [c for c in malformed() if len(c[1]) < 65_000]  # the rest cannot be a datagram

    async def scenario() -> None:
        transport, answerer = await started()
        peer = await UdpPeer.open()
        try:
            for name, data, expected in cases:
                peer.send(data, transport.port)
                if expected is not None:
                    try:
                        assert status_of(await peer.recv()) == expected, name
                    except TimeoutError:
                        pytest.fail(f"no answer to {name}")
            assert await peer.nothing(0.2)  # nothing answered that should have been dropped
            peer.send(options(), transport.port)
            assert status_of(await peer.recv()) == 200
            assert answerer.seen and len(answerer.seen) == 1
            dropped = sum(1 for c in cases if c[2] is None and c[1].strip(b"\r\n"))
            assert transport.stats.dropped == dropped
        finally:
            peer.close()
            await transport.close()

    run(scenario())


def test_handler_errors_do_not_stop_the_listener() -> None:
    async def scenario() -> None:
        transport, _ = await started()
        peer = await UdpPeer.open()
        try:
            boom = options().replace(b"OPTIONS", b"BOOM")
            peer.send(boom, transport.port)
            await asyncio.sleep(0.05)
            assert transport.stats.handler_errors == 1
            peer.send(options(), transport.port)
            assert status_of(await peer.recv()) == 200
        finally:
            peer.close()
            await transport.close()

    run(scenario())


async def read_response(reader: asyncio.StreamReader) -> SipResponse:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
    message = parse_datagram(head)
    assert isinstance(message, SipResponse)
    return message


def test_tcp_messages_in_pieces_and_together() -> None:
    async def scenario() -> None:
        transport, answerer = await started()
        reader, writer = await asyncio.open_connection(LOOPBACK, transport.port)
        try:
            data = options("a@x") + b"\r\n\r\n" + options("b@x")
            for i in range(0, len(data), 50):
                writer.write(data[i : i + 50])
                await writer.drain()
            first, second = await read_response(reader), await read_response(reader)
            assert (first.call_id, second.call_id) == ("a@x", "b@x")
            writer.write(invite(extra="Max-Forwards: 1\r\n") + options("c@x"))  # 400, then 200
            assert (await read_response(reader)).status == 400
            assert (await read_response(reader)).call_id == "c@x"
            assert answerer.seen[0][1].protocol == "tcp"
        finally:
            writer.close()
            await writer.wait_closed()
            await transport.close()

    run(scenario())


@pytest.mark.parametrize(
    "junk",
    [
        options().replace(b"Content-Length: 0\r\n", b""),
        b"\x00\xff" * 40_000,
        options().replace(b"Content-Length: 0", b"Content-Length: many"),
    ],
    ids=["no-content-length", "endless-garbage", "bad-length"],
)
def test_tcp_connection_closed_when_framing_is_lost(junk: bytes) -> None:
    async def scenario() -> None:
        transport, _ = await started()
        reader, writer = await asyncio.open_connection(LOOPBACK, transport.port)
        try:
            writer.write(junk)
            await writer.drain()
            rest = await asyncio.wait_for(reader.read(), 3)  # EOF: the server hung up
            assert rest == b"" or rest.startswith(b"SIP/2.0 400")
            again_r, again_w = await asyncio.open_connection(LOOPBACK, transport.port)
            again_w.write(options())
            assert (await read_response(again_r)).status == 200
            again_w.close()
            await again_w.wait_closed()
        finally:
            writer.close()
            await writer.wait_closed()
            await transport.close()

    run(scenario())


def test_reliable_send_repeats_until_stopped_then_times_out() -> None:
    async def scenario() -> None:
        transport, _ = await started(t1=0.02, t2=0.08)
        peer = await UdpPeer.open()
        timed_out = asyncio.Event()
        try:
            ok = SipResponse(parse_datagram(options()).headers, status=200, reason="OK")
            target = Peer("udp", LOOPBACK, peer.port)
            transport.send_reliably(ok, target, on_timeout=timed_out.set)
            for _ in range(4):  # first send, then 20, 60, 140 ms later
                assert status_of(await peer.recv(1)) == 200
            await asyncio.wait_for(timed_out.wait(), 3)  # 64·T1 = 1.28 s
            later = 0
            while not peer.queue.empty():
                later += 1
                peer.queue.get_nowait()
            assert later == len(answer_retransmissions(0.02, 0.08)) - 3
            stopped = transport.send_reliably(ok, target)
            await peer.recv(1)
            stopped.stop()  # the ACK came
            assert await peer.nothing(0.2)
        finally:
            peer.close()
            await transport.close()

    run(scenario())


def test_sends_only_to_loopback() -> None:
    async def scenario() -> None:
        transport, _ = await started()
        try:
            with pytest.raises(RemoteAddressRefused):
                transport.send_bytes(b"x", Peer("udp", "192.0.2.1", 5060))
            with pytest.raises(RemoteAddressRefused):
                transport.send_bytes(b"x", Peer("udp", "example.com", 5060))
        finally:
            await transport.close()

    run(scenario())
