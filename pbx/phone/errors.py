"""Errors of the I/O edge, and the loopback guard both sockets share."""

from __future__ import annotations

import ipaddress


class RemoteAddressRefused(Exception):
    """A send to an address outside loopback while `allow_remote` is off: tests and
    benchmarks must never talk to anything but 127.0.0.1, whatever an SDP says."""


class NoFreePort(Exception):
    """Every RTP port of the configured range is in use."""


class PeerGone(Exception):
    """A send on a TCP connection that has closed."""


def check_address(host: str, *, allow_remote: bool) -> None:
    """Raise RemoteAddressRefused unless `host` is a loopback address (or remote is allowed)."""
    if allow_remote:
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise RemoteAddressRefused(f"refusing to send to {host!r} (loopback only)")
