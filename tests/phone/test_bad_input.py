"""Hundreds of malformed SIP messages over UDP and TCP, and RTP from a stranger, while a real
call from the trunk (SIPp) is in progress: the worker answers or drops each, never stops,
the call goes on and ends cleanly, and no call or RTP port is left behind."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from pbx.phone.worker import PhoneWorker
from pbx.sip import rtp
from tests.integration.switchboard_world import CALLER, MAIN
from tests.phone import call_scenarios as s
from tests.phone.call_world import LOOPBACK, PhoneWorld, pcm_of
from tests.phone.real_peers import (
    PCAP_SOURCE_PORT,
    pcmu_packets,
    run,
    sipp,
    wait_for,
    write_pcap,
)
from tests.phone.sip_client import SipClient

GOOD = (
    "OPTIONS sip:100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK{n}\r\n"
    "Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=x{n}\r\nTo: <sip:100@127.0.0.1>\r\n"
    "Call-ID: bad-{n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
)


BROKEN_OFFER = "Content-Type: application/sdp\r\nContent-Length: 12\r\n\r\nv=0\r\nm=\x00\xff\r\n"


def malformed(count: int, seed: int = 7) -> list[bytes]:
    """Truncated, huge, duplicated, mis-sized and plain garbage messages, mixed."""
    rng = random.Random(seed)
    made: list[bytes] = []
    for n in range(count):
        good = GOOD.format(n=n)
        kind = n % 10
        if kind == 0:
            made.append(good.encode()[: rng.randrange(1, len(good) - 4)])  # truncated
        elif kind == 1:
            made.append(good.replace("Max-Forwards: 70", "X-Big: " + "a" * 60_000).encode())
        elif kind == 2:
            made.append(good.replace("CSeq: 1", "CSeq: 1 OPTIONS\r\nCSeq: 2").encode())
        elif kind == 3:
            made.append(
                good.replace(
                    "Content-Length: 0", f"Content-Length: {rng.choice(['9999', '-1', 'x', '3'])}"
                ).encode()
            )
        elif kind == 4:
            made.append(rng.randbytes(rng.randrange(0, 1400)))
        elif kind == 5:
            made.append(good.replace("Via:", "Via: SIP/2.0/UDP\r\nVia:" * 200, 1).encode())
        elif kind == 6:
            made.append(
                good.replace(
                    "OPTIONS sip", rng.choice(["FOO sip", "OPTIONS  sip", "OPTIONS"]), 1
                ).encode()
            )
        elif kind == 7:
            made.append(good.replace("SIP/2.0\r\n", "SIP/3.0\r\n", 1).encode())
        elif kind == 8:  # an INVITE with a broken offer
            made.append(
                good.replace("OPTIONS", "INVITE")
                .replace(
                    "Content-Length: 0\r\n\r\n",
                    BROKEN_OFFER,
                )
                .encode(errors="replace")
            )
        else:
            made.append(good.replace("\r\n", "\n").replace("Call-ID", "Call-ID:").encode())
    return made


async def over_tcp(port: int, messages: list[bytes]) -> None:
    """Send messages on a few TCP connections; a connection the worker closes is reopened."""
    writer: asyncio.StreamWriter | None = None
    for data in messages:
        try:
            if writer is None or writer.is_closing():
                _, writer = await asyncio.open_connection(LOOPBACK, port)
            writer.write(data)
            await writer.drain()
        except (ConnectionError, OSError):
            writer = None
    if writer is not None:
        writer.close()


async def stranger_rtp(worker: PhoneWorker) -> int:
    """RTP (voice and a key) from a second source to the call's latched port."""
    call = next(iter(worker.calls.values()))
    stranger = await SipClient.open(worker.port)
    key = bytes([5, 0x8A, 0, 160])  # '5', end, 160 samples
    for n in range(20):
        stranger.transport.sendto(
            rtp.build(101 if n % 2 else 0, n, 1000, 0xBAD, key if n % 2 else bytes(160)),
            (LOOPBACK, call.endpoint.local_port),
        )
    await asyncio.sleep(0.2)
    stranger.close()
    return call.endpoint.stats.foreign_packets


def test_bad_input_while_a_call_goes_on(world: PhoneWorld, tmp_path: Path) -> None:
    voice = tmp_path / "voice.pcap"
    write_pcap(voice, pcmu_packets(pcm_of(7.0, seed=51)), sport=PCAP_SOURCE_PORT, dport=10000)
    steps = s.scenario(
        "long call", s.invite(MAIN, CALLER), s.answered(MAIN, CALLER), s.stream(voice),
        s.pause(7500), s.bye(MAIN, CALLER, 2),
    )  # fmt: skip
    junk = malformed(300)

    async def scenario() -> None:
        worker = world.worker()
        await worker.start()
        sender = await SipClient.open(0)
        try:
            sender.target = worker.port
            call = asyncio.create_task(
                sipp(steps, tmp_path, worker.port, local_port=world.trunk_port)
            )
            await wait_for(
                lambda: (
                    worker.calls and next(iter(worker.calls.values())).endpoint.stats.packets_in
                ),
                10,
                "the call's RTP",
            )
            for data in junk:
                sender.send_raw(data)
                await asyncio.sleep(0.002)
            await over_tcp(worker.port, junk[:100])
            foreign = await stranger_rtp(worker)
            keys = next(iter(worker.calls.values())).endpoint.stats.keys
            assert foreign >= 20 and keys == 0
            await call  # SIPp's BYE got its 200: the call went on to the end
            await wait_for(lambda: not worker.calls and not worker.media.endpoints, 10, "end")
            assert worker.transport.stats.handler_errors == 0
            stats = worker.transport.stats
            assert stats.error_answers + stats.dropped + worker.guard.dropped >= 200
            trunk = await SipClient.open(worker.port, port=world.trunk_port)
            trunk.request("OPTIONS", "100")  # and it still serves
            assert (await trunk.answer()).status == 200
            trunk.close()
        finally:
            sender.close()
            await worker.close()

    run(scenario(), 90)
