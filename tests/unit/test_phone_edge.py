"""The SIP edge without sockets: whose word a worker takes for a request's source, and how
the shipped Kamailio configuration is filled in for one machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from admin_web.phone_edge import EdgePlan, numbered, split_rtp, write_lists
from admin_web.phone_front import nonce_secret
from pbx.config import ConfigError, Settings
from pbx.phone.edge import Edge, parse_source
from pbx.phone.transport import Peer
from pbx.sip.headers import Headers
from pbx.sip.message import SipRequest

KAMAILIO = Peer("udp", "10.0.0.2", 5060)


def request(*headers: tuple[str, str]) -> SipRequest:
    return SipRequest(Headers(headers), method="INVITE", uri="sip:+46852001000@10.0.0.2")


def test_the_edge_names_the_source_of_what_it_relays() -> None:
    edge = Edge(("10.0.0.2:5060",))
    relayed = request(("X-Vaxel-Source", "udp:203.0.113.7:5070"))
    assert edge.source(relayed, KAMAILIO) == Peer("udp", "203.0.113.7", 5070)
    assert edge.source(request(), KAMAILIO) is None  # the edge's own probe


def test_nobody_else_can_claim_a_source() -> None:
    forged = request(("X-Vaxel-Source", "udp:198.51.100.1:5060"))
    phone = Peer("udp", "203.0.113.9", 5060)
    assert Edge(("10.0.0.2:5060",)).source(forged, phone) == phone
    assert Edge().source(forged, KAMAILIO) == KAMAILIO  # no edge configured


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("tcp:[2001:db8::1]:5061", Peer("tcp", "2001:db8::1", 5061)),
        ("tls:192.0.2.1:5061", Peer("tcp", "192.0.2.1", 5061)),
        ("sctp:192.0.2.1:5060", None),
        ("udp:192.0.2.1", None),
        ("udp:192.0.2.1:0", None),
        ("garbage", None),
    ],
)
def test_source_values(value: str, expected: Peer | None) -> None:
    assert parse_source(value) == expected


def test_every_worker_checks_every_nonce() -> None:
    assert nonce_secret("k" * 40) == nonce_secret("k" * 40) != nonce_secret("j" * 40)


def test_the_lists_and_defines_fill_in_the_shipped_configuration(tmp_path: Path) -> None:
    plan = EdgePlan(
        "127.0.0.1", 5060, (("127.0.0.1", 5061), ("127.0.0.1", 5062)), tmp_path,
        trunk_hosts=("192.0.2.10", "192.0.2.11:5080"), trunk_address="192.0.2.10:5060",
    )  # fmt: skip
    write_lists(plan)
    workers = (tmp_path / "workers.list").read_text().splitlines()
    assert workers == ["1 sip:127.0.0.1:5061 0 0", "1 sip:127.0.0.1:5062 0 0"]
    trunks = (tmp_path / "trunks.list").read_text().splitlines()
    assert trunks == ["1 192.0.2.10 32 0 trunk", "1 192.0.2.11 32 5080 trunk"]
    command = plan.command("/usr/sbin/kamailio")
    assert "EDGE_UDP=udp:127.0.0.1:5060" in command
    assert 'TRUNK_URI="sip:192.0.2.10:5060"' in command
    assert plan.config.name == "kamailio.cfg" and plan.config.exists()


def test_the_edge_needs_the_trunks_ip_address(tmp_path: Path) -> None:
    plan = EdgePlan("127.0.0.1", 5060, (), tmp_path, trunk_hosts=("trunk.example",))
    with pytest.raises(ConfigError, match="IP address"):
        write_lists(plan)


def test_each_worker_gets_its_own_rtp_ports() -> None:
    settings = Settings(rtp_ports="20000-29999")
    assert split_rtp(settings, 2) == [(20000, 24999), (25000, 29999)]
    with pytest.raises(ConfigError, match="too small"):
        split_rtp(Settings(rtp_ports="20000-20150"), 2)
    assert numbered(Path("/x/stats.json"), 2) == Path("/x/stats-2.json")
