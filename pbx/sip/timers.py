"""RFC 3261 timer values (§17, table 4) as pure functions of T1 and T2.

The edge asks "when do I send this again?" and "when do I give up?"; the answers come from
here, so the schedule is tested without waiting for it.
"""

from __future__ import annotations

T1 = 0.5  # round-trip estimate
T2 = 4.0  # longest interval between retransmissions of non-INVITE requests and 2xx
T4 = 5.0  # longest time a message stays in the network


def timeout(t1: float = T1) -> float:
    """64·T1: Timer B, F, H and the 2xx give-up (32 s by default)."""
    return 64 * t1


def answer_retransmissions(t1: float = T1, t2: float = T2) -> tuple[float, ...]:
    """When a 2xx to an INVITE (or a final response of a UAS over UDP, timer G) is sent
    again, in seconds after the first send: the interval doubles from T1 up to T2, until
    64·T1 have passed without an ACK (§13.3.1.4)."""
    return _schedule(t1, t2, timeout(t1))


def invite_retransmissions(t1: float = T1) -> tuple[float, ...]:
    """Timer A: an INVITE over UDP is sent again at T1, 3·T1, 7·T1... (doubling, no cap)
    until Timer B (64·T1)."""
    return _schedule(t1, float("inf"), timeout(t1))


def request_retransmissions(t1: float = T1, t2: float = T2) -> tuple[float, ...]:
    """Timer E: a non-INVITE request over UDP, doubling up to T2, until Timer F."""
    return _schedule(t1, t2, timeout(t1))


def _schedule(t1: float, cap: float, until: float) -> tuple[float, ...]:
    if t1 <= 0:
        raise ValueError("T1 must be positive")
    out: list[float] = []
    at, interval = 0.0, t1
    while at + interval < until:
        at += interval
        out.append(at)
        interval = min(2 * interval, cap)
    return tuple(out)
