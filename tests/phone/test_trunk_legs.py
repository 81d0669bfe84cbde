"""Legs the switchboard places, with real peers on 127.0.0.1: a forwarding to an allowed outside
number is an INVITE to the trunk address (SIPp as the carrier answers and streams audio) with
the voice relayed both ways; a refused destination never leaves (nothing reaches the trunk
address) and is logged and audited; a caller who gives up while a phone rings cancels the
leg; a BYE that only guessed the Call-ID gets 481 and ends nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from pbx.sip import g711, rtp
from storage.models import AuditEvent, CallLogEntry, ForwardingRule, Tenant
from tests.integration.switchboard_world import CALLER, ERIK_DIRECT, MARIA_DIRECT, MARIA_MOBILE
from tests.integration.switchboard_world import user_by_ext as ext_user
from tests.phone import call_scenarios as s
from tests.phone import uas_scenarios as uas
from tests.phone.call_world import LOOPBACK, RTP_PORTS, PhoneWorld, free_port, pcm_of
from tests.phone.peers import UdpPeer
from tests.phone.real_peers import (
    PCAP_SOURCE_PORT,
    Packet,
    capture,
    locate,
    pcmu_packets,
    run,
    sipp,
    wait_for,
    write_pcap,
)
from tests.phone.sip_client import SipClient, offer
from tests.phone.test_callback_sip import quick_worker, register_at

WORKER_RTP = range(RTP_PORTS[0], RTP_PORTS[1] + 1)
PREMIUM = "+46900123456"


def forward_maria(world: PhoneWorld, to: str) -> None:
    """Maria forwards every call to `to` — written straight to the table, as a policy that
    changed after the rule was saved would leave it (the engine checks again at call time)."""
    with world.runtime.unit_of_work() as session:
        tenant = session.get(Tenant, world.tenant_id)
        assert tenant is not None
        maria = ext_user(session, tenant, "103")
        for rule in session.scalars(
            select(ForwardingRule).where(ForwardingRule.user_id == maria.id)
        ):
            session.delete(rule)
        session.flush()
        session.add(ForwardingRule(user_id=maria.id, kind="unconditional",
                                   destination_kind="external", destination=to))  # fmt: skip


def rows_of(world: PhoneWorld) -> list[tuple[str, str, str]]:
    with world.session() as session:
        found = session.scalars(select(CallLogEntry).order_by(CallLogEntry.id))
        return [(r.direction, r.disposition, r.callee) for r in found]


def test_a_forwarding_to_an_outside_number_is_placed_through_the_trunk(
    world: PhoneWorld, tmp_path: Path
) -> None:
    forward_maria(world, MARIA_MOBILE)
    carrier = free_port()
    caller_said, mobile_said = pcm_of(3.0, seed=61), pcm_of(3.0, seed=62)
    caller_pcap, mobile_pcap = tmp_path / "caller.pcap", tmp_path / "mobile.pcap"
    write_pcap(caller_pcap, pcmu_packets(caller_said), sport=PCAP_SOURCE_PORT, dport=10000)
    write_pcap(mobile_pcap, pcmu_packets(mobile_said), sport=PCAP_SOURCE_PORT, dport=10000)
    calling = s.scenario(
        "forwarded", s.invite(MARIA_DIRECT, CALLER), s.answered(MARIA_DIRECT, CALLER),
        s.stream(caller_pcap), s.pause(3500), s.bye(MARIA_DIRECT, CALLER, 2),
    )  # fmt: skip
    answering = uas.scenario("carrier", uas.answers(uas.stream(mobile_pcap)))

    async def scenario() -> list[Packet]:
        worker = quick_worker(world, trunk_address=f"{LOOPBACK}:{carrier}")
        await worker.start()
        try:
            async with capture(tmp_path, f"udp and portrange {RTP_PORTS[0]}-{RTP_PORTS[1]}") as got:
                mobile = asyncio.create_task(
                    sipp(answering, tmp_path, worker.port, local_port=carrier)
                )
                await asyncio.sleep(0.3)
                await sipp(calling, tmp_path, worker.port, local_port=world.trunk_port)
                await mobile  # it was INVITEd, answered and got the switchboard's BYE
            await wait_for(lambda: not worker.calls and not worker.media.endpoints, 10, "end")
        finally:
            await worker.close()
        return got

    packets = run(scenario(), 60)
    sent = [p for p in packets if p.sport in WORKER_RTP and p.dport not in WORKER_RTP]
    by_port: dict[int, list[bytes]] = {}
    for packet in sent:
        by_port.setdefault(packet.sport, []).append(rtp.parse(packet.data).payload)
    heard = [g711.ulaw_decode(b"".join(chunks)) for chunks in by_port.values()]
    assert len(heard) == 2  # from the caller's endpoint and from the mobile's leg
    best_caller = max(locate(caller_said[4000:12000], pcm)[1] for pcm in heard if len(pcm) > 16000)
    best_mobile = max(locate(mobile_said[4000:12000], pcm)[1] for pcm in heard if len(pcm) > 16000)
    assert best_caller >= 0.9 and best_mobile >= 0.9  # each voice reached the other side
    rows = rows_of(world)
    assert ("forwarded", "answered", MARIA_MOBILE) in rows, rows


def test_a_refused_destination_never_reaches_the_trunk(world: PhoneWorld) -> None:
    forward_maria(world, PREMIUM)

    async def scenario() -> bool:
        carrier = await UdpPeer.open()
        worker = quick_worker(world, trunk_address=f"{LOOPBACK}:{carrier.port}")
        await worker.start()
        client = await SipClient.open(worker.port, port=world.trunk_port)
        try:
            client.request("INVITE", MARIA_DIRECT, body=offer(free_port()))
            answer = await client.answer(timeout=10)
            if answer.status == 200:
                client.request("ACK", MARIA_DIRECT, cseq=1, to_tag=answer.to.tag or "")
                await asyncio.sleep(0.5)
                client.request("BYE", MARIA_DIRECT, cseq=2, to_tag=answer.to.tag or "")
            await wait_for(lambda: not worker.calls and not worker.media.endpoints, 10, "end")
            return await carrier.nothing(0.5)
        finally:
            client.close()
            carrier.close()
            await worker.close()

    assert run(scenario(), 30)  # not one datagram reached the trunk address
    rows = rows_of(world)
    assert any(d == "forwarded" and disp == "refused" and c == PREMIUM for d, disp, c in rows)
    with world.session() as session:
        audited = session.scalars(select(AuditEvent).where(AuditEvent.action == "call.refused"))
        assert [(a.new or {}).get("to") for a in audited] == [PREMIUM]


def test_the_caller_gives_up_while_the_phone_rings(world: PhoneWorld, tmp_path: Path) -> None:
    """Erik's phone (SIPp) rings; the caller CANCELs: 487 to the caller, the leg is
    cancelled (SIPp's scenario ends with our ACK of its 487), the call log says so."""
    phone = free_port()
    register_at(world, phone, ext="102")

    async def scenario() -> int:
        worker = quick_worker(world)
        await worker.start()
        client = await SipClient.open(worker.port, port=world.trunk_port)
        try:
            rings = asyncio.create_task(
                sipp(
                    uas.scenario("ring", uas.until_cancelled()),
                    tmp_path,
                    worker.port,
                    local_port=phone,
                )  # fmt: skip
            )
            await asyncio.sleep(0.3)
            invite = client.request("INVITE", ERIK_DIRECT, body=offer(free_port()))
            ringing = await client.answer(final=False)
            assert ringing.status in (100, 180)
            await asyncio.sleep(1.0)
            client.send_raw(invite.replace(b"INVITE sip:", b"CANCEL sip:", 1).replace(
                b"CSeq: 1 INVITE", b"CSeq: 1 CANCEL").split(b"Content-Type")[0]
                + b"Content-Length: 0\r\n\r\n")  # fmt: skip
            status = 0
            while status != 487:
                status = (await client.answer(timeout=5)).status
            await rings
            await wait_for(lambda: not worker.calls and not worker.media.endpoints, 10, "end")
            return status
        finally:
            client.close()
            await worker.close()

    assert run(scenario(), 40) == 487
    rows = rows_of(world)
    assert rows and rows[0][1] in ("abandoned", "cancelled", "no_answer"), rows


def test_a_bye_that_only_guessed_the_call_id_gets_481(world: PhoneWorld) -> None:
    async def scenario() -> tuple[int, int, bool]:
        worker = quick_worker(world)
        await worker.start()
        client = await SipClient.open(worker.port, port=world.trunk_port)
        try:
            client.request("INVITE", MARIA_DIRECT.replace("002", "000"), body=offer(free_port()))
            answer = await client.answer(timeout=10)
            assert answer.status == 200
            tag = answer.to.tag or ""
            client.request("ACK", "x", cseq=1, to_tag=tag)
            real_tag, client.tag = client.tag, "guessed"
            client.request("BYE", "x", cseq=2, to_tag=tag)
            stray = (await client.answer()).status
            still = bool(worker.calls)
            client.tag = real_tag
            client.request("BYE", "x", cseq=3, to_tag="wrong")
            stray_too = (await client.answer()).status
            client.request("BYE", "x", cseq=4, to_tag=tag)
            assert (await client.answer()).status == 200
            await wait_for(lambda: not worker.calls and not worker.media.endpoints, 10, "end")
            return stray, stray_too, still
        finally:
            client.close()
            await worker.close()

    stray, stray_too, still = run(scenario(), 30)
    assert (stray, stray_too, still) == (481, 481, True)
