"""SIP message parsing, validation, serialisation and the error answers (pure, no sockets)."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pbx.sip.build import (
    ack_for_failure,
    build_request,
    cancel_for,
    derived_tag,
    error_response,
    new_branch,
    response_to,
    with_received,
)
from pbx.sip.errors import SipParseError
from pbx.sip.headers import (
    NameAddr,
    Via,
    parse_name_addr,
    parse_via,
    route_set,
    split_commas,
)
from pbx.sip.message import (
    SipRequest,
    SipResponse,
    StreamFramer,
    is_keepalive,
    parse_datagram,
    parse_stream_message,
)
from tests.unit.sip_samples import SDP_OFFER, invite, malformed, options

CASES = malformed()


def parse_request(data: bytes) -> SipRequest:
    message = parse_datagram(data)
    assert isinstance(message, SipRequest)
    return message


def test_invite_parses_with_its_key_headers() -> None:
    req = parse_request(invite())
    assert (req.method, req.uri) == ("INVITE", "sip:+46812345678@127.0.0.1")
    assert req.call_id == "a84b4c76e66710@127.0.0.1"
    assert (req.cseq.number, req.cseq.method) == (314159, "INVITE")
    assert req.from_.tag == "1928301774" and req.from_.display == "Alice"
    assert req.to.tag is None and req.to.user == "+46812345678"
    assert req.vias[0].branch == "z9hG4bK776asdhds" and req.vias[0].rport == ""
    assert req.body == SDP_OFFER.encode() and req.content_type == "application/sdp"


def test_compact_forms_and_any_case_mean_the_long_headers() -> None:
    data = (
        b"OPTIONS sip:127.0.0.1 SIP/2.0\r\n"
        b"v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKc1\r\n"
        b"f: <sip:a@127.0.0.1>;tag=1\r\nT: <sip:b@127.0.0.1>\r\ni: cid-1\r\n"
        b"cseq: 7 OPTIONS\r\nm: <sip:a@127.0.0.1>\r\nk: timer\r\nl: 0\r\n\r\n"
    )
    req = parse_request(data)
    assert req.call_id == "cid-1" and req.cseq.number == 7
    assert req.headers.get("Supported") == "timer" and req.headers.get("CONTACT")
    assert b"Call-ID: cid-1\r\n" in req.to_bytes() and b"\r\ni:" not in req.to_bytes()


def test_multi_valued_headers_split_on_lines_and_commas() -> None:
    extra = (
        "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb, SIP/2.0/TCP [::1]:5061;branch=z9hG4bKc\r\n"
        'Contact: "A, B" <sip:a@127.0.0.1>, <sip:b@127.0.0.1;x=1,2>\r\n'
    )
    req = parse_request(options(extra=extra))
    assert [v.branch for v in req.vias] == ["z9hG4bKopt1", "z9hG4bKb", "z9hG4bKc"]
    assert req.vias[2].host == "[::1]" and req.vias[2].port == 5061
    assert len(req.headers.get_all("Contact")) == 2
    assert split_commas('a, "b,c", <d,e>') == ["a", '"b,c"', "<d,e>"]


def test_folded_header_lines_are_unfolded() -> None:
    req = parse_request(options(extra="Subject: first\r\n  second\r\n"))
    assert req.headers.get("Subject") == "first second"


def test_leading_crlfs_and_keepalives() -> None:
    assert parse_request(b"\r\n\r\n" + options()).method == "OPTIONS"
    assert is_keepalive(b"\r\n\r\n") and is_keepalive(b"") and not is_keepalive(b"x")


def test_smaller_content_length_cuts_the_body() -> None:
    req = parse_request(invite(content_length=10))
    assert req.body == SDP_OFFER.encode()[:10]


def test_serialise_and_parse_round_trip() -> None:
    req = parse_request(invite())
    again = parse_request(req.to_bytes())
    assert again == req


@pytest.mark.parametrize(("name", "data", "status"), CASES, ids=[c[0] for c in CASES])
def test_malformed_message_is_refused_with_the_right_answer(
    name: str, data: bytes, status: int | None
) -> None:
    with pytest.raises(SipParseError) as caught:
        parse_datagram(data)
    answer = error_response(data, caught.value)
    if status is None:
        assert answer is None
        return
    assert caught.value.status == status
    assert answer is not None
    response = parse_datagram(answer)
    assert isinstance(response, SipResponse) and response.status == status
    assert response.to.tag  # a final response always carries a To-tag
    assert response.call_id == "a84b4c76e66710@127.0.0.1" or response.headers.get("Call-ID")


def test_corpus_is_large() -> None:
    assert len(CASES) >= 150


def test_ack_is_never_answered() -> None:
    data = invite().replace(b"INVITE", b"ACK").replace(b"Content-Length", b"Content-Lxngth")
    with pytest.raises(SipParseError) as caught:
        parse_datagram(data)
    assert error_response(data, caught.value) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash_the_parser(data: bytes) -> None:
    try:
        parse_datagram(data)
    except SipParseError as exc:
        error_response(data, exc)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(invite()) - 1), st.binary(min_size=1, max_size=8))
@example(at=invite().index(b"Call-ID: ") + 12, junk=b"\t")  # once found: a tab in the Call-ID
def test_corrupted_invites_either_parse_or_raise_sip_parse_error(at: int, junk: bytes) -> None:
    good = invite()
    data = good[:at] + junk + good[at + len(junk) :]
    try:
        parse_datagram(data)
    except SipParseError as exc:
        answer = error_response(data, exc)
        assert answer is None or parse_datagram(answer)


def test_response_copies_the_transaction_headers_and_adds_a_to_tag() -> None:
    req = parse_request(invite(extra="Record-Route: <sip:proxy.example;lr>\r\n"))
    ok = response_to(req, 200, "OK", body=b"v=0\r\n", content_type="application/sdp")
    again = parse_datagram(ok.to_bytes())
    assert isinstance(again, SipResponse) and again.status == 200
    assert again.headers.get_all("Via") == req.headers.get_all("Via")
    assert again.to.tag == derived_tag(req) and again.cseq == req.cseq
    assert again.headers.get("Record-Route") == "<sip:proxy.example;lr>"
    trying = response_to(req, 100, "Trying")
    assert trying.to.tag is None and trying.headers.get("Record-Route") is None
    assert response_to(req, 486, "Busy Here", to_tag="mine").to.tag == "mine"


def test_with_received_stamps_rport_and_received() -> None:
    req = with_received(parse_request(invite()), "127.0.0.2", 40000)
    top = req.vias[0]
    assert (top.rport, top.received) == ("40000", "127.0.0.2")
    assert with_received(parse_request(options()), "127.0.0.1", 1).vias[0].received is None


def test_built_requests_parse_back() -> None:
    via = Via("UDP", "127.0.0.1", 5060, (("branch", new_branch()), ("rport", None)))
    req = build_request(
        "INVITE",
        "sip:bob@127.0.0.1:5070",
        via=via,
        from_=NameAddr("sip:vaxel@127.0.0.1", "Växel").with_tag("t1"),
        to=NameAddr("sip:bob@127.0.0.1"),
        call_id="c-1",
        cseq=1,
        contact="<sip:vaxel@127.0.0.1:5060>",
        body=SDP_OFFER.encode(),
        content_type="application/sdp",
    )
    parsed = parse_request(req.to_bytes())
    assert parsed.from_.display == "Växel" and parsed.body == SDP_OFFER.encode()
    cancel = parse_request(cancel_for(parsed).to_bytes())
    assert cancel.cseq.method == "CANCEL" and cancel.vias[0].branch == via.branch
    busy = response_to(parsed, 486, "Busy Here", to_tag="x")
    ack = parse_request(ack_for_failure(parsed, busy).to_bytes())
    assert ack.to.tag == "x" and ack.cseq.number == 1 and ack.uri == parsed.uri
    with pytest.raises(ValueError):
        build_request(
            "BYE",
            "sip:a@b",
            via=Via("UDP", "h", None),
            from_=NameAddr("sip:a@b"),
            to=NameAddr("sip:b@c"),
            call_id="c",
            cseq=2,
        )


def test_name_addr_and_via_forms() -> None:
    assert parse_name_addr("sip:a@b;tag=9").tag == "9"
    assert parse_name_addr("Bob <tel:+4670123;x=y>;tag=2").user == "+4670123"
    assert parse_via("SIP / 2.0 / tcp host;branch=z9hG4bKx").transport == "TCP"
    for bad in ("SIP/2.0/UDP h:0", "SIP/2.0/UDP h:x", "SIP/2.0/UDP h;=x", "SIP/2.0/UDP h o"):
        with pytest.raises(SipParseError):
            parse_via(bad)


def test_stream_framer_cuts_messages_at_content_length() -> None:
    framer = StreamFramer()
    stream = b"\r\n\r\n" + invite() + options() + b"\r\n\r\n" + invite()
    frames = []
    for i in range(0, len(stream), 37):  # arrives in odd pieces
        frames += framer.feed(stream[i : i + 37])
    assert len(frames) == 3
    assert [parse_stream_message(f).cseq.method for f in frames] == ["INVITE", "OPTIONS", "INVITE"]


@pytest.mark.parametrize(
    "stream",
    [
        invite().replace(b"Content-Length: ", b"Content-Lengthx: "),
        invite().replace(b"Content-Length: 2", b"Content-Length: -2"),
        b"X" * 70_000,
        invite(content_length=70_000),
        invite() + b"Content-Length: 3\r\n",
    ],
    ids=["missing", "negative", "endless-head", "huge-length", "ok-then-garbage-later"],
)
def test_stream_framer_refuses_lost_framing(stream: bytes) -> None:
    framer = StreamFramer()
    with pytest.raises(SipParseError) as caught:
        for frame in framer.feed(stream):
            parse_stream_message(frame)
        framer.feed(b"\r\n" * 40_000 + b"x" * 70_000)
    assert caught.value.fatal


def test_stream_message_needs_content_length() -> None:
    data = options().replace(b"Content-Length: 0\r\n", b"")
    with pytest.raises(SipParseError) as caught:
        parse_stream_message(data)
    assert caught.value.fatal


def test_a_dialogs_route_set_is_every_recorded_proxy_in_order() -> None:
    """Record-Route may list several proxies in one header and in several headers; the
    route set keeps them all in order (the UAC reverses it, §12.1.2)."""
    values = ("<sip:edge.a;lr;ftag=1>, <sip:edge.b;lr>", "<sip:edge.c;lr>")
    assert route_set(values) == ("<sip:edge.a;lr;ftag=1>", "<sip:edge.b;lr>", "<sip:edge.c;lr>")
    assert route_set(()) == ()
