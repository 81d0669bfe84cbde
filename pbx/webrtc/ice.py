"""Where the switchboard's end of a WebRTC call may be reached: ICE host candidates on the
configured addresses only.

aioice gathers a host candidate on every address of every interface except loopback, and
offers no setting for it. Tests and the local demo must stay on 127.0.0.1 (TELEPHONY.md,
"Network rules"), a provider's server on its public address. So before the answer is made,
each ICE connection of the peer is turned into a `_HostsConnection`, which gathers on the
given addresses through aioice's own public `get_component_candidates` and nothing else, and
answers connectivity checks from those addresses only.
No STUN or TURN server is configured, so no other candidate kinds appear.

This reaches into aiortc/aioice objects (the connection behind each ICE gatherer): the
version range in pyproject.toml is the one this was written against, and the WebRTC tests
check every candidate exchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from aioice import Connection
from aiortc import RTCPeerConnection

_CANDIDATE = re.compile(r"^a=candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ", re.MULTILINE)


class _HostsConnection(Connection):
    """An aioice connection that gathers host candidates on `host_addresses` only."""

    host_addresses: tuple[str, ...] = ()

    async def gather_candidates(self) -> None:
        if self._local_candidates_start:
            return
        self._local_candidates_start = True
        for component in sorted(self._components):
            self._local_candidates += await self.get_component_candidates(
                component=component, addresses=list(self.host_addresses)
            )
        self._local_candidates_end = True

    def request_received(self, message: Any, addr: tuple[str, int], protocol: Any) -> None:
        """Connectivity checks from any other address are not answered: a browser that
        also sends from its other interfaces (to our loopback candidate) cannot make a
        peer-reflexive pair outside `host_addresses`, so the pair in use stays inside."""
        if addr[0] in self.host_addresses:
            super().request_received(message, addr, protocol)


def keep_to(pc: RTCPeerConnection, addresses: tuple[str, ...]) -> None:
    """Make every ICE connection of `pc` gather on `addresses` only. Call it after the
    remote offer is set (that creates the transports) and before the answer is made."""
    for connection in _connections(pc):
        connection.__class__ = _HostsConnection
        connection.host_addresses = tuple(addresses)


def _connections(pc: RTCPeerConnection) -> Iterable[Any]:
    transports = [t.receiver.transport for t in pc.getTransceivers()]
    if pc.sctp is not None:
        transports.append(pc.sctp.transport)
    seen: set[int] = set()
    for dtls in transports:
        connection = dtls.transport.iceGatherer._connection
        if id(connection) not in seen:
            seen.add(id(connection))
            yield connection


def candidate_addresses(sdp: str) -> list[str]:
    """The connection address of every `a=candidate` line of an SDP."""
    return _CANDIDATE.findall(sdp)


def only_candidates(sdp: str, addresses: tuple[str, ...]) -> str:
    """The SDP without candidates on other addresses (a browser's offer, in a deployment
    restricted to loopback, may list the machine's other interfaces too)."""
    return "".join(line for line in sdp.splitlines(keepends=True) if _keep(line, addresses))


def _keep(line: str, addresses: tuple[str, ...]) -> bool:
    if not line.startswith("a=candidate:"):
        return True
    found = candidate_addresses(line.rstrip("\r\n"))
    return bool(found) and found[0] in addresses
