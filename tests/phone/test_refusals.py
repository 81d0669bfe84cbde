"""What the front refuses, over real UDP on 127.0.0.1: calls from strangers (challenged,
then refused and audited), wrong phone passwords, offers it cannot take, re-INVITEs,
scanners and floods."""

from __future__ import annotations

from sqlalchemy import select

from pbx.phone.worker import PhoneWorker
from storage.models import AuditEvent
from tests.integration.switchboard_world import MAIN
from tests.phone.call_world import LOOPBACK, PhoneWorld
from tests.phone.real_peers import run, wait_for
from tests.phone.sip_client import SipClient, digest_header, offer


def auth_failures(world: PhoneWorld) -> list[dict[str, object]]:
    with world.session() as session:
        found = session.scalars(select(AuditEvent).where(AuditEvent.action == "phone.auth_failed"))
        return [dict(e.new or {}) for e in found]


async def refused_with_wrong_password(
    client: SipClient, method: str, user: str, username: str, body: str = ""
) -> int:
    """Send `method`, answer the challenge with a wrong password; the final status."""
    client.request(method, user, body=body)
    challenge = await client.answer()
    assert challenge.status == 401
    md5 = next(v for v in challenge.headers.get_all("WWW-Authenticate") if "MD5" in v)
    uri = f"sip:{user}@{LOOPBACK}:{client.target}"
    header = digest_header(
        md5, username=username, password="not-the-password", method=method, uri=uri,
        header="Authorization",
    )  # fmt: skip
    client.request(method, user, body=body, cseq=2, headers=(header,))
    return (await client.answer()).status


def test_strangers_and_wrong_passwords_are_refused_and_audited(world: PhoneWorld) -> None:
    username = world.credentials["101"].username

    async def scenario() -> None:
        worker = world.worker()
        await worker.start()
        stranger = await SipClient.open(0)
        try:
            stranger.target = worker.port
            stranger.request("INVITE", MAIN, body=offer())
            challenge = await stranger.answer()
            assert challenge.status == 401
            assert len(challenge.headers.get_all("WWW-Authenticate")) == 2  # SHA-256, MD5
            stranger.call_id = "second"
            status = await refused_with_wrong_password(stranger, "INVITE", MAIN, username, offer())
            assert status == 403
            stranger.call_id = "third"
            assert (
                await refused_with_wrong_password(stranger, "REGISTER", username, username) == 403
            )
            assert not worker.calls and worker.media.endpoints == 0
        finally:
            stranger.close()
            await worker.close()

    run(scenario())
    failures = auth_failures(world)
    assert [(f["method"], f["username"]) for f in failures] == [
        ("INVITE", username),
        ("REGISTER", username),
    ]
    assert all("not-the-password" not in str(f) for f in failures)


async def trunk_call(worker: PhoneWorker, trunk: SipClient, body: str) -> int:
    trunk.request("INVITE", MAIN, body=body)
    return (await trunk.answer()).status


def test_offers_it_cannot_take_and_re_invites_get_488(world: PhoneWorld) -> None:
    async def scenario() -> None:
        worker = world.worker()
        await worker.start()
        trunk = await SipClient.open(0, port=world.trunk_port)
        try:
            trunk.target = worker.port
            g729_only = offer(formats="18", attributes="a=rtpmap:18 G729/8000\r\n")
            assert await trunk_call(worker, trunk, g729_only) == 488
            trunk.call_id = "video"
            video = offer().replace("m=audio", "m=video")
            assert await trunk_call(worker, trunk, video) == 488
            trunk.call_id = "call"
            assert await trunk_call(worker, trunk, offer()) == 200
            assert len(worker.calls) == 1
            call = next(iter(worker.calls.values()))
            trunk.request("ACK", MAIN, to_tag=call.to_tag)
            trunk.request("INVITE", MAIN, body=offer(), cseq=2, to_tag=call.to_tag)
            assert (await trunk.answer()).status == 488
            assert len(worker.calls) == 1 and not call.ended  # the call goes on as it was
            trunk.request("BYE", MAIN, cseq=3, to_tag=call.to_tag)
            assert (await trunk.answer()).status == 200
            await wait_for(lambda: not worker.calls and not worker.media.endpoints, 10, "end")
        finally:
            trunk.close()
            await worker.close()

    run(scenario())


def test_scanners_get_nothing_and_a_flood_is_cut_after_the_burst(world: PhoneWorld) -> None:
    async def scenario() -> None:
        worker = world.worker()
        await worker.start()
        scanner = await SipClient.open(0, user_agent="friendly-scanner")
        flood = await SipClient.open(0)
        try:
            scanner.target = flood.target = worker.port
            scanner.request("OPTIONS", "100")
            scanner.request("REGISTER", "100")
            scanner.request("INVITE", "100", body=offer())
            assert await scanner.silence()
            for n in range(200):
                flood.request("OPTIONS", "100", call_id=f"flood-{n}")
            answered = 0
            while not await flood.silence(0.5):
                answered += 1
            burst = worker.guard.config.burst
            assert burst <= answered + 1 <= burst + 10
            flood.request("OPTIONS", "100", call_id="after")
            assert await flood.silence()  # blocked for a while
            assert worker.guard.blocked == 1
        finally:
            scanner.close()
            flood.close()
            await worker.close()

    run(scenario())
