"""The two sides of a SIP dialog the front takes part in (RFC 3261 §12), once established.

- `ServerDialog`: a caller's INVITE that we answered (we are the UAS). Our tag is the To tag.
- `ClientDialog`: an INVITE we sent that a phone or the trunk answered with 2xx (we are the
  UAC: a B2BUA leg, or a record-by-phone call). Our tag is the From tag; we ACK the 2xx.

Both send BYE within the dialog (next CSeq, to the other side's Contact, along the route set)
and say whether a request belongs to the dialog: the Call-ID *and* both tags must match
(§12.2.2), so a stray BYE that only guessed the Call-ID is answered 481 and ends nothing.

The route set is what the proxies in the path recorded (Record-Route, §12.1): behind the
Kamailio edge every request of ours in a dialog names the edge in a Route header, so the edge
recognises it as its own dialog's (loose routing) instead of guessing from the Request-URI.
Only loose routers (`;lr`) are supported, as every proxy of this century is one.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pbx.phone.transport import Peer
from pbx.sip import build
from pbx.sip.headers import NameAddr, Via, parse_name_addr, route_set
from pbx.sip.message import SipRequest, SipResponse

if TYPE_CHECKING:
    from pbx.phone.worker import PhoneWorker


@dataclass
class _Dialog:
    worker: PhoneWorker
    peer: Peer  # where the other side's requests come from (a TCP peer: its connection)
    call_id: str
    local: NameAddr  # our side, with our tag
    remote: NameAddr  # theirs, with their tag
    target: str  # the other side's Contact: where our requests in the dialog go
    cseq: int = 1
    route: tuple[str, ...] = ()  # the route set, nearest proxy first (Route header values)

    def matches(self, request: SipRequest) -> bool:
        """A request within this dialog: its From is the other side, its To is us."""
        return (
            request.call_id == self.call_id
            and request.from_.tag == self.remote.tag
            and request.to.tag == self.local.tag
        )

    def request(self, method: str) -> SipRequest:
        """A new request within the dialog (BYE), with the next CSeq."""
        worker = self.worker
        via = Via(self.peer.protocol.upper(), worker.host, worker.port,
                  (("branch", build.new_branch()), ("rport", "")))  # fmt: skip
        self.cseq += 1
        return build.build_request(
            method, self.target, via=via, from_=self.local, to=self.remote,
            call_id=self.call_id, cseq=self.cseq, headers=self.routes(),
        )  # fmt: skip

    def routes(self) -> list[tuple[str, str]]:
        return [("Route", r) for r in self.route]

    def bye(self) -> None:
        with contextlib.suppress(Exception):  # a peer gone (TCP closed) is gone already
            self.worker.transport.send(self.request("BYE"), self.peer)


@dataclass
class ServerDialog(_Dialog):
    @classmethod
    def of(cls, worker: PhoneWorker, invite: SipRequest, peer: Peer, tag: str) -> ServerDialog:
        contact = invite.headers.get("Contact")
        target = parse_name_addr(contact).uri if contact else invite.from_.uri
        return cls(
            worker, peer, invite.call_id, invite.to.with_tag(tag), invite.from_, target,
            cseq=1, route=route_set(invite.headers.get_all("Record-Route")),
        )  # fmt: skip


@dataclass
class ClientDialog(_Dialog):
    @classmethod
    def of(
        cls, worker: PhoneWorker, invite: SipRequest, response: SipResponse, peer: Peer
    ) -> ClientDialog:
        contact = response.headers.get("Contact")
        target = parse_name_addr(contact).uri if contact else invite.uri
        remote = invite.to.with_tag(response.to.tag) if response.to.tag else invite.to
        # The UAC's route set is the 2xx's Record-Route in reverse (§12.1.2).
        route = route_set(response.headers.get_all("Record-Route"))[::-1]
        return cls(
            worker, peer, invite.call_id, invite.from_, remote, target,
            cseq=invite.cseq.number, route=route,
        )  # fmt: skip

    def ack(self) -> None:
        """ACK of our INVITE's 2xx: a request of its own (new branch), same CSeq number."""
        worker = self.worker
        via = Via(self.peer.protocol.upper(), worker.host, worker.port,
                  (("branch", build.new_branch()),))  # fmt: skip
        ack = build.build_request(
            "ACK", self.target, via=via, from_=self.local, to=self.remote,
            call_id=self.call_id, cseq=self.cseq, headers=self.routes(),
        )  # fmt: skip
        with contextlib.suppress(Exception):
            worker.transport.send(ack, self.peer)
