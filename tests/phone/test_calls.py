"""Real calls from the carrier trunk (SIPp) to the demo company's main number, over
127.0.0.1: what SIPp heard (captured on `lo`) is the company's prompts, keys by RFC 4733
and SIP INFO steer the menus and cut the prompt that plays (barge-in), the menu's timeout
runs from the end of its prompt, a voicemail left by RTP is stored and playable, and the
call log says what happened."""

from __future__ import annotations

import asyncio
import io
import wave
from pathlib import Path

import numpy as np
from sqlalchemy import select

from pbx.phone.prompts import frame_rms
from pbx.phone.worker import PhoneWorker
from pbx.sip import rtp
from storage.models import CallLogEntry, VoicemailMessage
from tests.integration.switchboard_world import CALLER, MAIN
from tests.phone import call_scenarios as s
from tests.phone.call_world import MENU_TIMEOUT, PROMPTS, RTP_PORTS, PhoneWorld, pcm_of
from tests.phone.real_peers import (
    PCAP_SOURCE_PORT,
    SIPP_PCAPS,
    Packet,
    Segment,
    capture,
    heard,
    pcmu_packets,
    run,
    similarity,
    sipp,
    wait_for,
    write_pcap,
)

WORKER_RTP = range(RTP_PORTS[0], RTP_PORTS[1] + 1)


def seconds(name: str) -> float:
    return PROMPTS[name][0]


def bpf(world: PhoneWorld) -> str:
    return (
        f"udp and (portrange {RTP_PORTS[0]}-{RTP_PORTS[1]} or port {PCAP_SOURCE_PORT} "
        f"or port {world.trunk_port})"
    )


async def call_ends(worker: PhoneWorker) -> None:
    await wait_for(lambda: not worker.calls and worker.media.endpoints == 0, 10, "calls ended")


def first_key_packet(packets: list[Packet]) -> float:
    for packet in packets:
        if packet.dport in WORKER_RTP and rtp.parse(packet.data).payload_type == 101:
            return packet.time
    raise AssertionError("no RFC 4733 packet reached the worker")


def sip_request_time(packets: list[Packet], method: bytes) -> float:
    return next(p.time for p in packets if p.data.startswith(method + b" "))


def test_prompts_keys_and_barge_in(world: PhoneWorld, tmp_path: Path) -> None:
    """Welcome then the main menu; RFC 4733 '2' mid-menu → Kundtjänst at once; SIP INFO '9'
    mid-Kundtjänst → back to the main menu at once; the caller hangs up."""
    number, key_at, info_at = MAIN, 2000, 2800
    steps = s.scenario(
        "keys", s.invite(number, CALLER), s.answered(number, CALLER),
        s.pause(key_at), s.stream(SIPP_PCAPS / "dtmf_2833_2.pcap"),
        s.pause(info_at - key_at), s.info_key(number, CALLER, "9", 2),
        s.pause(int(seconds("main") * 1000) + 400), s.bye(number, CALLER, 3),
    )  # fmt: skip

    async def scenario() -> list[Packet]:
        worker = world.worker()
        await worker.start()
        try:
            async with capture(tmp_path, bpf(world)) as packets:
                await sipp(steps, tmp_path, worker.port, local_port=world.trunk_port)
                await call_ends(worker)
        finally:
            await worker.close()
        return packets

    packets = run(scenario(), 60)
    segments = heard(packets, WORKER_RTP)
    assert len(segments) == 3, [(round(x.start, 2), len(x.pcm)) for x in segments]
    first, support, again = segments
    welcome = world.prompts["welcome"]
    assert similarity(first.pcm[: len(welcome)], welcome) >= 0.9
    assert similarity(first.pcm[len(welcome) :], world.prompts["main"]) >= 0.9
    assert similarity(support.pcm, world.prompts["support"]) >= 0.9
    assert similarity(again.pcm, world.prompts["main"]) >= 0.9
    assert len(again.pcm) >= len(world.prompts["main"]) - 160  # played out in full
    # barge-in: the next prompt starts within 100 ms of the key, cutting the one that played
    assert support.start - first_key_packet(packets) < 0.1
    assert len(first.pcm) < len(welcome) + len(world.prompts["main"]) - 1600
    assert again.start - sip_request_time(packets, b"INFO") < 0.1
    assert len(support.pcm) < len(world.prompts["support"]) - 1600
    with world.session() as session:
        mine = list(session.scalars(select(CallLogEntry).where(CallLogEntry.caller == CALLER)))
    assert [(r.leg, r.direction, r.disposition, r.callee) for r in mine] == [
        (1, "inbound", "abandoned", MAIN)
    ]


#: No key pressed: the menu times out to Anna's box; her greeting and the beep end here.
BEEP_ENDS = seconds("welcome") + seconds("main") + MENU_TIMEOUT + seconds("greeting") + 0.4


def spoken_message(tmp: Path, length: float, seed: int) -> tuple[np.ndarray, Path]:
    """Speech-like audio and the pcap of it as RTP that SIPp streams."""
    said = pcm_of(length, seed=seed)
    pcap = tmp / "message.pcap"
    write_pcap(pcap, pcmu_packets(said), sport=PCAP_SOURCE_PORT, dport=10000)
    return said, pcap


def after_the_beep(pcap: Path) -> tuple[str, ...]:
    """The trunk calls the main number, waits out the menu and the greeting, then speaks."""
    return (
        s.invite(MAIN, CALLER), s.answered(MAIN, CALLER),
        s.pause(int((BEEP_ENDS + 0.6) * 1000)), s.stream(pcap),
    )  # fmt: skip


def test_menu_timeout_then_voicemail_left_by_rtp(world: PhoneWorld, tmp_path: Path) -> None:
    """No key: the menu's timeout (from the end of its prompt) sends the call to Anna, who
    has no phone: her greeting, the beep, then 3 s of speech as RTP become a voicemail."""
    said, pcap = spoken_message(tmp_path, 3.0, seed=21)
    steps = s.scenario("voicemail", *after_the_beep(pcap), s.pause(3300), s.bye(MAIN, CALLER, 2))

    async def scenario() -> list[Packet]:
        worker = world.worker()
        await worker.start()
        try:
            async with capture(tmp_path, bpf(world)) as packets:
                await sipp(steps, tmp_path, worker.port, local_port=world.trunk_port)
                await call_ends(worker)
        finally:
            await worker.close()
        return packets

    packets = run(scenario(), 60)
    menu, greeting, beep = _voicemail_segments(heard(packets, WORKER_RTP))
    assert similarity(menu.pcm[-len(world.prompts["main"]) :], world.prompts["main"]) >= 0.9
    assert similarity(greeting.pcm, world.prompts["greeting"]) >= 0.9
    # the timer started when the menu prompt had played out, not when it was queued
    assert abs(greeting.start - menu.end - MENU_TIMEOUT) < 0.25
    _check_voicemail(world, said)


def _voicemail_segments(segments: list[Segment]) -> tuple[Segment, Segment, Segment]:
    assert len(segments) >= 2, [(round(x.start, 2), len(x.pcm)) for x in segments]
    menu, greeting = segments[0], segments[1]
    # the greeting and the beep are queued together: split them at the greeting's length
    cut = len(pcm_of(*PROMPTS["greeting"]))
    beep = Segment(greeting.start, greeting.end, greeting.pcm[cut:])
    greeting = Segment(greeting.start, greeting.end, greeting.pcm[:cut])
    return menu, greeting, beep


def _check_voicemail(world: PhoneWorld, said: np.ndarray) -> None:
    with world.session() as session:
        messages = list(session.scalars(select(VoicemailMessage)))
        fresh = [m for m in messages if m.caller == CALLER]
        assert len(fresh) == 1, [(m.caller, m.duration_ms) for m in messages]
        message = fresh[0]
        assert message.blob_sha256 is not None
        blobs = world.runtime.blobs(session)
        blobs.verify(message.blob_sha256)
        data = blobs.get(message.blob_sha256)
    with wave.open(io.BytesIO(data)) as stored:
        assert (stored.getnchannels(), stored.getframerate()) == (1, 8000)
        pcm = np.frombuffer(stored.readframes(stored.getnframes()), "<i2")
    assert abs(len(pcm) / 8000 - 3.0) <= 0.3 and abs(message.duration_ms - 3000) <= 300
    assert np.count_nonzero(frame_rms(pcm) > 500) > 50  # energy: speech, not silence
    assert similarity(pcm[:8000], said) >= 0.9


def test_a_worker_stopped_mid_message_keeps_it_and_hangs_up(
    world: PhoneWorld, tmp_path: Path
) -> None:
    """A worker stopped (a deploy, SIGTERM) while a caller leaves a message: the engine hears
    the hang-up first, so the message so far is kept and the call log has its row, and the
    caller gets the switchboard's BYE instead of silence."""
    _, pcap = spoken_message(tmp_path, 4.0, seed=22)
    steps = s.scenario("stopped", *after_the_beep(pcap), s.expect_bye())

    async def scenario() -> None:
        worker = world.worker()
        await worker.start()
        closed = False
        try:
            call = asyncio.create_task(
                sipp(steps, tmp_path, worker.port, local_port=world.trunk_port)
            )
            await asyncio.sleep(BEEP_ENDS + 0.6 + 2.0)  # two seconds of the message spoken
            await worker.close()
            closed = True
            await call  # SIPp fails unless the BYE came
        finally:
            if not closed:
                await worker.close()

    run(scenario(), 60)
    with world.session() as session:
        fresh = [m for m in session.scalars(select(VoicemailMessage)) if m.caller == CALLER]
        rows = list(session.scalars(select(CallLogEntry).where(CallLogEntry.caller == CALLER)))
    assert len(fresh) == 1 and 1200 <= fresh[0].duration_ms <= 2800, fresh
    legs = sorted((r.leg, r.disposition) for r in rows)
    assert legs[0] == (1, "voicemail"), legs  # the call itself: it ended in the mailbox
