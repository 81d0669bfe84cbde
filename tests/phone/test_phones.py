"""A real softphone (baresip, driven over ctrl_tcp) registered as a demo user with digest
authentication: it records a greeting on 333, and it is rung (B2BUA) when the trunk calls
its extension, with the voice relayed both ways."""

from __future__ import annotations

import asyncio
import contextlib
import io
import wave
from pathlib import Path

import numpy as np
from sqlalchemy import select

from pbx.phone.call import SipCall
from pbx.phone.worker import PhoneWorker
from pbx.sip import g711, rtp
from pbx.sip.errors import RtpError
from storage.models import CallLogEntry, MediaVersion, MessageSlot, PhoneRegistration
from tests.integration.switchboard_world import CALLER, ERIK_DIRECT
from tests.phone import call_scenarios as s
from tests.phone.call_world import LOOPBACK, RTP_PORTS, PhoneWorld, pcm_of, wav_of
from tests.phone.real_peers import (
    BARESIP_RTP,
    PCAP_SOURCE_PORT,
    Baresip,
    Packet,
    capture,
    locate,
    pcmu_packets,
    run,
    sipp,
    start_baresip,
    wait_for,
    write_pcap,
)

SPOKEN_SECONDS = 60.0
WORKER_RTP = range(
    RTP_PORTS[0], RTP_PORTS[1] + 1
)  # the phone's microphone: a long speech-like file


def account(world: PhoneWorld, worker: PhoneWorker, ext: str, password: str = "") -> str:
    made = world.credentials[ext]
    return (
        f"<sip:{made.username}@{LOOPBACK}:{worker.port};transport=udp>"
        f";auth_pass={password or made.password};answermode=auto;regint=600"
        ";audio_codecs=PCMU,PCMA"
    )


def registered(world: PhoneWorld) -> list[str]:
    """Where the phones registered (the worker writes registrations to the database)."""
    with world.session() as session:
        return [r.host for r in session.scalars(select(PhoneRegistration))]


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as f:
        assert f.getframerate() == 8000, f.getframerate()
        pcm = np.frombuffer(f.readframes(f.getnframes()), "<i2")
        return pcm[:: f.getnchannels()]


def greeting(world: PhoneWorld) -> tuple[bool, list[MediaVersion]]:
    """Anna's greeting slot: whether it was deleted, and the versions a phone made."""
    slot_id = world.slot_ids["greeting"]
    with world.session() as session:
        slot = session.get(MessageSlot, slot_id)
        assert slot is not None
        found = session.scalars(select(MediaVersion).where(MediaVersion.slot_id == slot_id))
        made = [v for v in found if v.source == "phone"]
        session.expunge_all()
        return slot.deleted_at is not None, made


def only_call(worker: PhoneWorker) -> SipCall:
    assert len(worker.calls) == 1
    return next(iter(worker.calls.values()))


def test_333_records_plays_and_deletes_a_greeting_from_a_registered_phone(
    world: PhoneWorld, tmp_path: Path
) -> None:
    spoken = pcm_of(SPOKEN_SECONDS, seed=31)
    source = tmp_path / "mic.wav"
    source.write_bytes(wav_of(spoken))

    async def scenario() -> tuple[Baresip, bytes]:
        worker = world.worker()
        await worker.start()
        phone: Baresip | None = None
        try:
            phone = await start_baresip(tmp_path, source, account(world, worker, "101"))
            await wait_for(lambda: registered(world), 10, "the phone registered")
            await phone.command("dial", f"sip:333@{LOOPBACK}:{worker.port}")
            await phone.event("CALL_ESTABLISHED")
            await wait_for(lambda: worker.calls, 5, "the call")
            call = only_call(worker)
            await phone.command("sndcode", "5")
            await wait_for(lambda: call._recording is not None, 15, "recording")
            await asyncio.sleep(2.5)  # the phone speaks for 2.5 s
            await phone.command("sndcode", "0")
            await wait_for(lambda: greeting(world)[1], 10, "a new greeting version")
            take = next(iter(call.takes.values())).master
            await phone.command("sndcode", "4")  # cuts the confirmation (barge-in)
            await wait_for(lambda: call.endpoint.playing, 5, "greeting playing")
            await asyncio.sleep(len(take) / 16000 + 0.5)  # the take plays, then the menu
            await phone.command("sndcode", "6")
            await wait_for(lambda: greeting(world)[0], 10, "greeting deleted")
            await phone.command("hangup")
            await wait_for(lambda: not worker.calls and not worker.media.endpoints, 10, "end")
        finally:
            if phone is not None:
                await phone.stop()
            await worker.close()
        return phone, take

    phone, take_wav = run(scenario(), 120)
    with wave.open(io.BytesIO(take_wav)) as f:
        take = np.frombuffer(f.readframes(f.getnframes()), "<i2")
    assert 2.0 <= len(take) / 8000 <= 4.0
    _, similarity = locate(take[:8000], spoken)  # what the phone said was recorded
    assert similarity >= 0.9
    heard = read_wav(phone.recordings[0])
    _, similarity = locate(take[:8000], heard)  # and played back to it on 4
    assert similarity >= 0.9
    _, versions = greeting(world)
    assert len(versions) == 1 and versions[0].source == "phone"
    assert registered(world) == []  # baresip unregistered as it quit


def test_a_registered_phone_is_rung_and_the_voice_is_relayed_both_ways(
    world: PhoneWorld, tmp_path: Path
) -> None:
    """The trunk calls Erik's direct number; Erik's baresip rings and answers by itself;
    what the caller says reaches the phone and what the phone says reaches the caller;
    the caller hangs up and the switchboard hangs up the phone. Then, with no phone
    registered, the same number goes the engine's unavailable way."""
    mic = tmp_path / "mic.wav"
    mic.write_bytes(wav_of(pcm_of(SPOKEN_SECONDS, seed=41)))
    said = pcm_of(3.0, seed=42)
    pcap = tmp_path / "caller.pcap"
    write_pcap(pcap, pcmu_packets(said), sport=PCAP_SOURCE_PORT, dport=10000)
    steps = s.scenario(
        "b2bua", s.invite(ERIK_DIRECT, CALLER), s.answered(ERIK_DIRECT, CALLER),
        s.stream(pcap), s.pause(3600), s.bye(ERIK_DIRECT, CALLER, 2),
    )  # fmt: skip
    unanswered = s.scenario(
        "unavailable", s.invite(ERIK_DIRECT, CALLER), s.answered(ERIK_DIRECT, CALLER),
        s.pause(1500), s.bye(ERIK_DIRECT, CALLER, 2),
    )  # fmt: skip

    async def scenario() -> tuple[Baresip, list[Packet]]:
        worker = world.worker()
        await worker.start()
        phone: Baresip | None = None
        try:
            phone = await start_baresip(tmp_path, mic, account(world, worker, "102"))
            await wait_for(lambda: registered(world), 10, "the phone registered")
            async with capture(
                tmp_path, f"udp and portrange {RTP_PORTS[0]}-{RTP_PORTS[1]}"
            ) as packets:
                await sipp(steps, tmp_path, worker.port, local_port=world.trunk_port)
            await phone.event("CALL_CLOSED")
            await wait_for(lambda: not worker.calls and not worker.media.endpoints, 10, "end")
            await phone.stop()
            await wait_for(lambda: not registered(world), 10, "the phone unregistered")
            await sipp(unanswered, tmp_path, worker.port, local_port=world.trunk_port)
            await wait_for(lambda: not worker.calls and not worker.media.endpoints, 10, "end")
        finally:
            if phone is not None:
                await phone.stop()
            await worker.close()
        return phone, packets

    phone, packets = run(scenario(), 120)
    at_phone = read_wav(phone.recordings[0])
    _, similarity = locate(said[4000:12000], at_phone)  # the caller's voice reached the phone
    assert similarity >= 0.9
    to_caller = [p for p in packets if p.sport in WORKER_RTP and p.dport not in BARESIP_RTP]
    at_caller = np.concatenate([g711.ulaw_decode(v) for v in _voice(to_caller)])
    _, similarity = locate(at_caller[8000:16000], pcm_of(SPOKEN_SECONDS, seed=41))
    assert similarity >= 0.9  # and the phone's voice reached the caller
    with world.session() as session:
        rows = session.scalars(select(CallLogEntry).order_by(CallLogEntry.id)).all()
        print(
            [(r.call_id[:6], r.leg, r.direction, r.disposition, r.callee, r.user_id) for r in rows]
        )


def _voice(packets: list[Packet]) -> list[bytes]:
    """The PCMU payloads among captured datagrams (anything else on those ports — a stray
    non-RTP datagram caught by the port filter — is not the caller's voice)."""
    voice = []
    for packet in packets:
        with contextlib.suppress(RtpError):
            parsed = rtp.parse(packet.data)
            if parsed.payload_type == 0:
                voice.append(parsed.payload)
    return voice
