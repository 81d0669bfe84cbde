"""Record by phone from a real phone: "Initiera samtal" (the web's service, then the hand-over)
makes a worker INVITE the user's registered phone — baresip over UDP and over TCP, or SIPp
as the carrier for their mobile — and the take recorded from RTP becomes a new version
(source "phone") of the slot. A phone that declines is busy, one that rings out is
cancelled; every call ends with its live_calls row and call-log rows written."""

from __future__ import annotations

import asyncio
import io
import wave
from pathlib import Path

import numpy as np
from sqlalchemy import select

from pbx.engine.states import CallbackReview
from pbx.phone.callback import CallbackCall
from pbx.phone.worker import PhoneWorker
from pbx.services.calls import live
from pbx.services.calls import phone_callbacks as handover
from pbx.services.common.actor import Actor
from pbx.services.people import phones
from storage.models import (
    CallLogEntry,
    LiveCall,
    MediaVersion,
    MessageSlot,
    PhoneRegistration,
    Tenant,
    User,
)
from tests.integration.switchboard_world import ANNA_MOBILE, user_by_ext
from tests.phone import uas_scenarios as uas
from tests.phone.call_world import LOOPBACK, PhoneWorld, free_port, pcm_of, wav_of
from tests.phone.real_peers import (
    PCAP_SOURCE_PORT,
    SIPP_PCAPS,
    locate,
    pcmu_packets,
    run,
    sipp,
    start_baresip,
    wait_for,
    write_pcap,
)
from tests.phone.test_phones import account

SPOKEN = pcm_of(60.0, seed=51)  # the phone's microphone
SHORT = wav_of(pcm_of(0.4, seed=52))  # every system prompt, so the calls are quick


def quick_worker(world: PhoneWorld, **overrides: object) -> PhoneWorker:
    worker = world.worker() if not overrides else _worker(world, **overrides)
    worker.switchboard.speak = lambda text, language: SHORT
    worker.callbacks.poll_seconds = 0.05
    return worker


def _worker(world: PhoneWorld, **overrides: object) -> PhoneWorker:
    from admin_web.phone_front import build_worker
    from tests.phone.call_world import RTP_PORTS

    return build_worker(
        world.runtime, sip_port=0, rtp_ports=f"{RTP_PORTS[0]}-{RTP_PORTS[1]}",
        trunk_hosts=(f"{LOOPBACK}:{world.trunk_port}",), **overrides,
    )  # fmt: skip


def anna(session: object, world: PhoneWorld) -> User:
    tenant = session.get(Tenant, world.tenant_id)  # type: ignore[attr-defined]
    return user_by_ext(session, tenant, "101")  # type: ignore[arg-type]


def initiate(world: PhoneWorld, number: str, *, trunk: bool = False) -> tuple[str, bool]:
    """What the record page does on "Initiera samtal": start the callback, hand it over."""
    with world.runtime.unit_of_work() as session:
        user = anna(session, world)
        actor = Actor(user.id, user.email, "company_admin", user.tenant_id)
        slot = session.get(MessageSlot, world.slot_ids["welcome"])
        assert slot is not None
        call = live.start_callback(session, world.runtime.blobs(session), actor, user, slot, number)
        return call.id, handover.hand_over(session, call, trunk=trunk)


def anna_id(world: PhoneWorld) -> int:
    with world.session() as session:
        return anna(session, world).id


def register_at(world: PhoneWorld, port: int, ext: str = "101") -> None:
    """A phone of the user's (Anna's) at 127.0.0.1:`port` (SIPp), as a REGISTER would have
    written it."""
    with world.runtime.unit_of_work() as session:
        tenant = session.get(Tenant, world.tenant_id)
        assert tenant is not None
        user = user_by_ext(session, tenant, ext)
        found = phones.account_by_user(session, user.id)
        assert found is not None
        contact = phones.Contact(user.id, f"sip:anna@{LOOPBACK}:{port}", "udp", LOOPBACK, port)
        phones.register(session, found, contact, 600, "SIPp")


def row(world: PhoneWorld, call_id: str) -> LiveCall:
    with world.session() as session:
        found = session.get(LiveCall, call_id)
        assert found is not None
        session.expunge(found)
        return found


def phone_versions(world: PhoneWorld) -> list[MediaVersion]:
    with world.session() as session:
        stmt = select(MediaVersion).where(
            MediaVersion.slot_id == world.slot_ids["welcome"], MediaVersion.source == "phone"
        )
        found = list(session.scalars(stmt))
        session.expunge_all()
        return found


def take_pcm(world: PhoneWorld, version: MediaVersion) -> np.ndarray:
    with world.runtime.unit_of_work() as session:
        data = world.runtime.blobs(session).get(version.blob_sha256 or "")
    with wave.open(io.BytesIO(data)) as f:
        return np.frombuffer(f.readframes(f.getnframes()), "<i2")


def log_rows(world: PhoneWorld, call_id: str) -> list[CallLogEntry]:
    with world.session() as session:
        found = session.scalars(select(CallLogEntry).where(CallLogEntry.call_id == call_id))
        rows = list(found)
        session.expunge_all()
        return rows


async def the_call(worker: PhoneWorker) -> CallbackCall:
    await wait_for(lambda: worker.callbacks.calls, 10, "the worker took the callback")
    return next(iter(worker.callbacks.calls.values()))


async def all_over(worker: PhoneWorker) -> None:
    await wait_for(
        lambda: not worker.callbacks.calls and not worker.media.endpoints, 10, "call over"
    )


def registered_over(world: PhoneWorld) -> list[str]:
    with world.session() as session:
        return [r.transport for r in session.scalars(select(PhoneRegistration))]


def record_on_baresip(world: PhoneWorld, tmp_path: Path, transport: str) -> str:
    """baresip registered as Anna answers by itself; she speaks, presses # (UDP) or hangs
    up (TCP) to end the take; over UDP she listens (1) and saves (#) in review."""
    mic = tmp_path / "mic.wav"
    mic.write_bytes(wav_of(SPOKEN))

    async def scenario() -> str:
        worker = quick_worker(world)
        await worker.start()
        line = account(world, worker, "101").replace("transport=udp", f"transport={transport}")
        phone = await start_baresip(tmp_path, mic, line)
        try:
            await wait_for(lambda: registered_over(world) == [transport], 10, "registered")
            call_id, handed = initiate(world, "101")
            assert handed and row(world, call_id).status == handover.DIALLING
            call = await the_call(worker)
            await phone.event("CALL_ESTABLISHED")
            await wait_for(lambda: call._recording is not None, 10, "recording after the beep")
            await asyncio.sleep(2.5)
            if transport == "tcp":
                await phone.command("hangup")
            else:
                await phone.command("sndcode", "#")
                await wait_for(lambda: _reviewing(call), 5, "review")
                await phone.command("sndcode", "1")  # listen: the take plays back
                await wait_for(lambda: call.endpoint.playing, 5, "the take plays")
                await phone.command("sndcode", "#")  # save
                await phone.event("CALL_CLOSED")
            await all_over(worker)
        finally:
            await phone.stop()
            await worker.close()
        return call_id

    return run(scenario(), 90)


def _reviewing(call: CallbackCall) -> bool:
    return call._driver is not None and isinstance(call._driver.state.phase, CallbackReview)


def assert_recorded(world: PhoneWorld, call_id: str, spoken: np.ndarray) -> None:
    ended = row(world, call_id)
    assert (ended.status, ended.outcome) == ("ended", "recorded")
    versions = phone_versions(world)
    assert len(versions) == 1
    take = take_pcm(world, versions[0])
    assert 1.5 <= len(take) / 8000 <= 4.5
    _, similarity = locate(take[2000:8000], spoken)  # what the phone said was recorded
    assert similarity >= 0.9
    rows = log_rows(world, call_id)
    assert [(r.direction, r.disposition, r.user_id) for r in rows] == [
        ("outbound", "answered", anna_id(world))
    ]


def test_record_by_phone_rings_the_registered_phone_over_udp(
    world: PhoneWorld, tmp_path: Path
) -> None:
    call_id = record_on_baresip(world, tmp_path, "udp")
    assert_recorded(world, call_id, SPOKEN)


def test_record_by_phone_over_tcp_ends_when_the_phone_hangs_up(
    world: PhoneWorld, tmp_path: Path
) -> None:
    call_id = record_on_baresip(world, tmp_path, "tcp")
    assert_recorded(world, call_id, SPOKEN)


def test_a_phone_that_declines_is_busy_and_one_that_rings_out_is_cancelled(
    world: PhoneWorld, tmp_path: Path
) -> None:
    phone_port = free_port()
    register_at(world, phone_port)

    async def scenario() -> tuple[str, str]:
        worker = quick_worker(world)
        worker.callbacks.ring_seconds = 1
        await worker.start()
        try:
            declines = asyncio.create_task(
                sipp(
                    uas.scenario("busy", uas.busy()), tmp_path, worker.port, local_port=phone_port
                )  # fmt: skip
            )
            await asyncio.sleep(0.3)
            busy, _ = initiate(world, "101")
            await declines
            await all_over(worker)
            rings = asyncio.create_task(
                sipp(
                    uas.scenario("ring", uas.until_cancelled()),
                    tmp_path,
                    worker.port,
                    local_port=phone_port,
                )  # fmt: skip
            )
            await asyncio.sleep(0.3)
            unanswered, _ = initiate(world, "101")
            await rings
            await all_over(worker)
        finally:
            await worker.close()
        return busy, unanswered

    busy, unanswered = run(scenario(), 60)
    assert (row(world, busy).status, row(world, busy).outcome) == ("ended", "busy")
    assert row(world, unanswered).outcome == "no_answer"
    assert phone_versions(world) == []
    for call_id, disposition in ((busy, "busy"), (unanswered, "no_answer")):
        rows = log_rows(world, call_id)
        assert [r.disposition for r in rows] == [disposition], rows


def test_record_by_phone_to_the_own_mobile_through_the_trunk(
    world: PhoneWorld, tmp_path: Path
) -> None:
    """SIPp is the carrier at the trunk address: it answers Anna's mobile, streams her
    speech, presses # (the take ends), # again in review (saved); the switchboard hangs up."""
    carrier = free_port()
    said = pcm_of(2.5, seed=53)
    pcap = tmp_path / "said.pcap"
    write_pcap(pcap, pcmu_packets(said), sport=PCAP_SOURCE_PORT, dport=10000)
    pound = SIPP_PCAPS / "dtmf_2833_pound.pcap"
    steps = uas.answers(
        uas.pause(1500), uas.stream(pcap), uas.pause(3000), uas.stream(pound),
        uas.pause(1500), uas.stream(pound),
    )  # fmt: skip

    async def scenario() -> str:
        worker = quick_worker(world, trunk_address=f"{LOOPBACK}:{carrier}")
        await worker.start()
        try:
            answering = asyncio.create_task(
                sipp(uas.scenario("mobile", steps), tmp_path, worker.port, local_port=carrier)
            )
            await asyncio.sleep(0.3)
            call_id, handed = initiate(world, ANNA_MOBILE, trunk=True)
            assert handed
            await answering
            await all_over(worker)
        finally:
            await worker.close()
        return call_id

    call_id = run(scenario(), 60)
    assert_recorded(world, call_id, said)


def test_the_softphone_keeps_calls_no_real_phone_can_take_and_one_worker_claims(
    world: PhoneWorld,
) -> None:
    """No phone registered (or the mobile without a trunk): the browser softphone rings as
    before. A hand-over is claimed once: the second worker's UPDATE finds nothing."""
    on_desk, handed = initiate(world, "101")
    assert not handed and row(world, on_desk).status == "ringing"
    mobile, handed = initiate(world, ANNA_MOBILE, trunk=False)
    assert not handed and row(world, mobile).status == "ringing"
    through_trunk, handed = initiate(world, ANNA_MOBILE, trunk=True)
    assert handed
    with world.runtime.unit_of_work() as session:
        assert handover.waiting(session) == [through_trunk]
        assert handover.claim(session, through_trunk)
    with world.runtime.unit_of_work() as session:
        assert not handover.claim(session, through_trunk)
        assert handover.waiting(session) == []
    assert row(world, through_trunk).status == handover.ON_PHONE
