"""Legs: the calls the switchboard places for a call in progress (we are a B2BUA).

`RingUser` rings every phone registered for the user at once (a fork per contact);
`DialExternal` sends one INVITE to the carrier trunk (the engine has already applied the
destination policy and the fraud caps: a refused leg never reaches here). Meanwhile the
caller hears ringing (180 before the call is answered, a ringback tone after). The first
phone to answer wins: the others are cancelled, the leg's RTP is relayed both ways
(transcoded when the two sides chose different G.711 laws) and the engine hears `Answer`.
486/600/603 (a phone that declines) mean `Busy`, any other failure `Unavailable`, the ring
time running out `NoAnswer` (the forks are cancelled). A BYE from the answered phone, within
its dialog (Call-ID and both tags), is the end of the call; any other BYE gets 481.

A call that *is* its leg (`EngineCall.adopts_leg`: record by phone, where the switchboard
calls the user) takes the answered fork's media as its own instead of bridging to it.

Phones registered over TCP are rung over the connection they registered on, as long as it is
open and on this worker (another worker cannot write on it: the fork fails, the others ring).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from pbx.engine import actions as a
from pbx.engine.events import Answer, Busy, Event, Hangup, NoAnswer, Unavailable
from pbx.phone.dialog import ClientDialog
from pbx.phone.endpoint import MediaEndpoint
from pbx.phone.errors import PeerGone, RemoteAddressRefused
from pbx.phone.transport import Peer, Retransmission
from pbx.services.people import phones
from pbx.sip import build, g711, sdp
from pbx.sip.errors import SdpError
from pbx.sip.headers import NameAddr, Via
from pbx.sip.message import SipRequest, SipResponse
from storage.blobs import BlobStore

if TYPE_CHECKING:
    from pbx.phone.engine_call import EngineCall
    from pbx.phone.worker import PhoneWorker

log = logging.getLogger(__name__)
BUSY = frozenset({486, 600, 603})


@dataclass
class Fork:
    """One INVITE we sent: to one registered phone, or to the trunk."""

    invite: SipRequest
    peer: Peer
    endpoint: MediaEndpoint
    sending: Retransmission | None = None
    status: int = 0  # the final status it got (0: none yet)
    dialog: ClientDialog | None = None  # once it answered 2xx


@dataclass
class Leg:
    legs: Legs
    call: EngineCall
    forks: list[Fork] = field(default_factory=list)
    answered: Fork | None = None
    over: bool = False
    _timeout: asyncio.TimerHandle | None = None

    def stop(self) -> None:
        """The call is ending (or moved on): cancel what rings, hang up what answered."""
        if self.over:
            return
        self.over = True
        if self._timeout is not None:
            self._timeout.cancel()
        for fork in self.forks:
            if fork is self.answered:
                self._bye(fork)
            elif fork.status == 0:
                self._cancel(fork)
            self._close(fork)
        self.legs.drop(self)

    def _cancel(self, fork: Fork) -> None:
        if fork.sending is not None:
            fork.sending.stop()
        self.legs.cancelled(fork)
        with contextlib.suppress(Exception):
            self.legs.worker.transport.send(build.cancel_for(fork.invite), fork.peer)

    def _bye(self, fork: Fork) -> None:
        if fork.dialog is not None:
            fork.dialog.bye()

    def _close(self, fork: Fork) -> None:
        fork.endpoint.on_audio = None
        fork.endpoint.close()
        self.call.endpoint.on_audio = None


class Legs:
    """Every leg of one worker, found again by the Call-ID of their INVITEs."""

    def __init__(self, worker: PhoneWorker) -> None:
        self.worker = worker
        self._by_call_id: dict[str, tuple[Leg, Fork]] = {}
        self._cancelled: dict[str, Fork] = {}  # their INVITE's final answer is still to ACK

    def call_for(self, call_id: str) -> EngineCall | None:
        """The engine call whose leg has this Call-ID (keys by SIP INFO from a phone we
        rang — record by phone — belong to that call)."""
        found = self._by_call_id.get(call_id)
        return found[0].call if found is not None else None

    def ring(self, call: EngineCall, action: a.RingUser | a.DialExternal) -> None:
        asyncio.get_running_loop().create_task(self._ring(call, action))

    async def _ring(self, call: EngineCall, action: a.RingUser | a.DialExternal) -> None:
        targets = await self._targets(action)
        if call.ended:
            return
        if not targets:
            call.post(Unavailable(at=call.clock()))
            return
        if call.leg is not None:
            call.leg.stop()
        leg = Leg(self, call)
        call.leg = leg
        for uri, peer in targets:
            self._invite(leg, uri, peer, action)
        loop = asyncio.get_running_loop()
        leg._timeout = loop.call_later(action.timeout, lambda: self._ring_out(leg))
        if call.answered:
            call.endpoint.play_tone("ringback", loop=True)
        else:
            call.ringing()

    async def _targets(self, action: a.RingUser | a.DialExternal) -> list[tuple[str, Peer]]:
        if isinstance(action, a.DialExternal):
            trunk = self.worker.trunk.address
            if trunk is None:
                return []
            return [(f"sip:{action.e164}@{trunk[0]}:{trunk[1]}", Peer("udp", *trunk))]
        if not action.user_id.isdigit():
            return []
        user_id = int(action.user_id)

        def contacts(session: Session, blobs: BlobStore) -> list[phones.Contact]:
            return phones.contacts_of(session, user_id)

        found = await self.worker.switchboard.run(contacts, writes=False)
        targets = []
        for c in found:
            if c.transport != "tcp":
                targets.append((c.contact, Peer("udp", c.host, c.port)))
                continue
            connection = self.worker.transport.connection_to(c.host, c.port)
            if connection is not None:  # its connection is open, here
                targets.append((c.contact, Peer("tcp", c.host, c.port, connection)))
        return targets

    def _invite(self, leg: Leg, uri: str, peer: Peer, action: a.RingUser | a.DialExternal) -> None:
        worker = self.worker
        endpoint = worker.media.open_endpoint()
        offer = sdp.build_offer(
            port=endpoint.local_port, session_id=secrets.randbelow(10**9),
            address=worker.media_config.host,
        )  # fmt: skip
        caller = leg.call.origin.caller
        via = Via(peer.protocol.upper(), worker.host, worker.port,
                  (("branch", build.new_branch()), ("rport", "")))  # fmt: skip
        invite = build.build_request(
            "INVITE", uri, via=via,
            from_=NameAddr(f"sip:{caller}@{worker.host}").with_tag(build.new_tag()),
            to=NameAddr(uri), call_id=f"{secrets.token_hex(12)}@vaxel", cseq=1,
            contact=worker.contact_uri(peer), body=offer, content_type=sdp.SDP_CONTENT_TYPE,
        )  # fmt: skip
        fork = Fork(invite, peer, endpoint)
        leg.forks.append(fork)
        self._by_call_id[invite.call_id] = (leg, fork)
        try:
            fork.sending = worker.transport.send_reliably(
                invite, peer, lambda: self._failed(leg, fork, 408)
            )
        except (PeerGone, RemoteAddressRefused, OSError):  # its connection closed meanwhile
            asyncio.get_running_loop().call_soon(self._failed, leg, fork, 503)

    def cancelled(self, fork: Fork) -> None:
        """A fork we CANCELled answers its INVITE still (487, or a 2xx that crossed the
        CANCEL): that answer must be ACKed (and a 2xx hung up) after the leg is gone."""
        call_id = fork.invite.call_id
        self._cancelled[call_id] = fork
        loop = asyncio.get_running_loop()
        loop.call_later(32.0, lambda: self._cancelled.pop(call_id, None))

    def _after_cancel(self, response: SipResponse, peer: Peer) -> None:
        fork = self._cancelled.get(response.call_id)
        if fork is None or response.status < 200 or response.cseq.method != "INVITE":
            return
        del self._cancelled[response.call_id]
        if response.status >= 300:
            with contextlib.suppress(Exception):
                self.worker.transport.send(build.ack_for_failure(fork.invite, response), peer)
            return
        dialog = ClientDialog.of(self.worker, fork.invite, response, fork.peer)
        dialog.ack()
        dialog.bye()

    def on_response(self, response: SipResponse, peer: Peer) -> None:
        found = self._by_call_id.get(response.call_id)
        if found is None:
            self._after_cancel(response, peer)
            return
        leg, fork = found
        if fork.sending is not None:
            fork.sending.stop()  # any answer ends our retransmissions
        if response.status < 200 or response.cseq.method != "INVITE":
            return
        if response.status >= 300:
            with contextlib.suppress(Exception):
                self.worker.transport.send(build.ack_for_failure(fork.invite, response), peer)
            self._failed(leg, fork, response.status)
            return
        self._answered(leg, fork, response, peer)

    def _answered(self, leg: Leg, fork: Fork, response: SipResponse, peer: Peer) -> None:
        fork.status = response.status
        if fork.dialog is not None:  # a retransmitted 2xx: ACK it again
            fork.dialog.ack()
            return
        fork.dialog = ClientDialog.of(self.worker, fork.invite, response, fork.peer)
        fork.dialog.ack()
        if leg.over or leg.answered is not None:
            leg.answered = leg.answered or fork
            if leg.answered is not fork:
                self._hang_up_late(leg, fork)
            return
        try:
            fork.endpoint.use(sdp.accept_answer(sdp.parse_sdp(response.body)))
        except (SdpError, Exception):
            fork.dialog.bye()  # established, but we cannot talk: hang it up
            fork.status = 0
            self._failed(leg, fork, 488)
            return
        leg.answered = fork
        if leg._timeout is not None:
            leg._timeout.cancel()
        for other in leg.forks:
            if other is not fork and other.status == 0:
                leg._cancel(other)
        call = leg.call
        if call.adopts_leg:
            call.adopt(fork.endpoint)
        else:
            self._bridge(call.endpoint, fork.endpoint)
            call.answer_now()
            call.endpoint.stop()  # the ringback
        call.post(Answer(at=call.clock()))

    def _hang_up_late(self, leg: Leg, fork: Fork) -> None:
        """A second phone answered after the first: thank it and hang up."""
        leg._bye(fork)
        leg._close(fork)

    def _failed(self, leg: Leg, fork: Fork, status: int) -> None:
        if fork.status:
            return
        fork.status = status
        if leg.over or leg.answered is not None:
            return
        if all(f.status for f in leg.forks):
            busy = any(f.status in BUSY for f in leg.forks)
            self._end(leg, Busy(at=leg.call.clock()) if busy else Unavailable(at=leg.call.clock()))

    def _ring_out(self, leg: Leg) -> None:
        if leg.answered is None and not leg.over:
            self._end(leg, NoAnswer(at=leg.call.clock()))

    def _end(self, leg: Leg, event: Event) -> None:
        call = leg.call
        leg.stop()
        if call.leg is leg:
            call.leg = None
        if call.answered:
            call.endpoint.stop()  # the ringback
        call.post(event)

    def on_bye(self, request: SipRequest, peer: Peer) -> bool:
        """The answered phone hung up: the call is over for the engine too."""
        found = self._by_call_id.get(request.call_id)
        if found is None:
            return False
        leg, fork = found
        if fork.dialog is None or not fork.dialog.matches(request):
            return False  # not within the dialog (a guessed Call-ID): 481
        with contextlib.suppress(Exception):
            self.worker.transport.send(build.response_to(request, 200, "OK"), peer)
        if leg.answered is fork and not leg.over:
            leg.answered = None  # no BYE back
            leg.stop()
            leg.call.post(Hangup(at=leg.call.clock()))
        return True

    def drop(self, leg: Leg) -> None:
        for fork in leg.forks:
            self._by_call_id.pop(fork.invite.call_id, None)

    @staticmethod
    def _bridge(caller: MediaEndpoint, callee: MediaEndpoint) -> None:
        """Relay the voice both ways, converting between μ-law and A-law when needed."""

        def relay(to: MediaEndpoint, source: MediaEndpoint):  # type: ignore[no-untyped-def]
            def forward(payload: bytes) -> None:
                if to.codec != source.codec:
                    payload = g711.encode(to.codec, g711.decode(source.codec, payload))
                to.relay(payload)

            return forward

        caller.on_audio = relay(callee, caller)
        callee.on_audio = relay(caller, callee)
