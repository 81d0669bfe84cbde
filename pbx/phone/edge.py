"""The SIP edge in front of the workers (Kamailio, `deploy/kamailio/kamailio.cfg`).

Behind the edge every request reaches a worker from the edge's address. The edge says where
it really came from in `X-Vaxel-Source: udp:203.0.113.7:5060` (and removes that header from
whatever arrives from outside), so a worker decides by that source whether a request is the
trunk's and counts floods and failed logins per real source, not per edge. The header is
believed only from the configured edge addresses; from anyone else it is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from pbx.phone.transport import Peer, Protocol
from pbx.sip.message import SipRequest

SOURCE_HEADER = "X-Vaxel-Source"
PROTOCOLS: dict[str, Protocol] = {
    "udp": "udp",
    "tcp": "tcp",
    "tls": "tcp",
    "ws": "tcp",
    "wss": "tcp",
}


@dataclass(frozen=True)
class Edge:
    """The edge's addresses ("host" or "host:port"); none: the worker faces the world."""

    hosts: tuple[str, ...] = ()

    def trusts(self, peer: Peer) -> bool:
        return peer.host in self.hosts or f"{peer.host}:{peer.port}" in self.hosts

    def source(self, request: SipRequest, peer: Peer) -> Peer | None:
        """Where `request` came from: the edge's word for it when the edge relayed it, the
        peer itself otherwise; None for the edge's own requests (its OPTIONS probes)."""
        if not self.trusts(peer):
            return peer
        value = request.headers.get(SOURCE_HEADER)
        return parse_source(value) if value else None


def parse_source(value: str) -> Peer | None:
    """`udp:203.0.113.7:5060` (or `tcp:[2001:db8::1]:5061`) as a peer; None if malformed."""
    protocol, _, rest = value.strip().partition(":")
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    if protocol.lower() not in PROTOCOLS or not host or not port.isdigit():
        return None
    number = int(port)
    return Peer(PROTOCOLS[protocol.lower()], host, number) if 0 < number < 65536 else None
