"""SIP messages to test with: a valid INVITE (with SDP) and OPTIONS, and a generated corpus
of broken ones. Shared by the pure tests and the transport tests."""

from __future__ import annotations

SDP_OFFER = (
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n"
)


def invite(*, body: str = SDP_OFFER, extra: str = "", content_length: int | None = None) -> bytes:
    length = len(body.encode()) if content_length is None else content_length
    head = (
        "INVITE sip:+46812345678@127.0.0.1 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK776asdhds;rport\r\n"
        "Max-Forwards: 70\r\n"
        'From: "Alice" <sip:alice@127.0.0.1>;tag=1928301774\r\n'
        "To: <sip:+46812345678@127.0.0.1>\r\n"
        "Call-ID: a84b4c76e66710@127.0.0.1\r\n"
        "CSeq: 314159 INVITE\r\n"
        "Contact: <sip:alice@127.0.0.1:5070>\r\n"
        "Content-Type: application/sdp\r\n"
        f"{extra}"
        f"Content-Length: {length}\r\n\r\n"
    )
    return (head + body).encode()


def options(call_id: str = "opt-1@127.0.0.1", extra: str = "") -> bytes:
    return (
        "OPTIONS sip:127.0.0.1 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKopt1\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:probe@127.0.0.1>;tag=abc\r\n"
        "To: <sip:127.0.0.1>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        f"{extra}"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def _replace_line(message: bytes, prefix: bytes, new: bytes | None) -> bytes:
    lines = message.split(b"\r\n")
    out = []
    for line in lines:
        if line.startswith(prefix):
            if new is not None:
                out.append(new)
        else:
            out.append(line)
    return b"\r\n".join(out)


def malformed() -> list[tuple[str, bytes, int | None]]:
    """(name, bytes, expected status or None when it must be dropped unanswered)."""
    good = invite()
    cases: list[tuple[str, bytes, int | None]] = []
    for cut in range(1, len(good) - len(SDP_OFFER) - 4, 3):  # truncated inside the headers
        head = good[:cut]
        answerable = b"CSeq: 314159 INVITE\r\n" in head or head.endswith(b"CSeq: 314159 INVITE")
        cases.append((f"truncated-{cut}", good[:cut], 400 if answerable else None))
    for cut in range(len(good) - len(SDP_OFFER), len(good) - 1, 5):  # truncated body
        cases.append((f"short-body-{cut}", good[:cut], 400))
    for header in (b"Via", b"From", b"To", b"Call-ID", b"CSeq"):
        cases.append((f"missing-{header.decode()}", _replace_line(good, header + b":", None), None))
    for header, value in (
        (b"CSeq", b"CSeq: 1 INVITE"),
        (b"Call-ID", b"Call-ID: other@127.0.0.1"),
        (b"From", b"From: <sip:x@127.0.0.1>;tag=2"),
        (b"To", b"To: <sip:y@127.0.0.1>"),
        (b"Content-Type", b"Content-Type: application/sdp"),
        (b"Max-Forwards", b"Max-Forwards: 69"),
    ):
        doubled = good.replace(header + b":", value + b"\r\n" + header + b":", 1)
        cases.append((f"duplicate-{header.decode()}", doubled, 400))
    bad_values = {
        b"CSeq": [b"CSeq: x INVITE", b"CSeq: 1", b"CSeq: 1 BYE", b"CSeq: 99999999999 INVITE"],
        b"Via": [b"Via: nonsense", b"Via: SIP/2.0/UDP", b"Via: SIP/2.0/UDP 127.0.0.1:99999"],
        b"From": [b"From: <>", b"From: no-scheme", b'From: "x <sip:a@b>'],
        b"Max-Forwards": [b"Max-Forwards: -1", b"Max-Forwards: 9999", b"Max-Forwards: x"],
        b"Content-Length": [b"Content-Length: -5", b"Content-Length: abc", b"Content-Length: 1e3"],
    }
    for header, values in bad_values.items():
        for i, value in enumerate(values):
            expected = None if header in (b"CSeq", b"Via", b"From") else 400
            cases.append(
                (f"bad-{header.decode()}-{i}", _replace_line(good, header + b":", value), expected)
            )
    for n in (1, 50, 10_000):  # Content-Length larger than the body
        cases.append((f"long-content-length-{n}", invite(content_length=len(SDP_OFFER) + n), 400))
    cases.append(("no-content-length", _replace_line(good, b"Content-Length:", None), 400))
    many = "".join(f"X-Junk-{i}: {i}\r\n" for i in range(120))
    cases.append(("too-many-headers", invite(extra=many), 513))
    cases.append(("huge-header", invite(extra="Subject: " + "a" * 9000 + "\r\n"), 513))
    cases.append(("huge-message", invite(body="a=x\r\n" * 14_000), 513))
    for i, line in enumerate(
        [
            b"INVITE sip:a@b SIP/3.0",
            b"INVITE  sip:a@b SIP/2.0",
            b"INVITE http://a SIP/2.0",
            b"INV ITE sip:a@b SIP/2.0",
            b"INVITE sip:a@b",
            b"SIP/2.0 OK",
            b"INVITE sip: SIP/2.0",
        ]
    ):
        expected = {0: 505, 2: 416, 6: 400}.get(i)
        cases.append((f"request-line-{i}", line + good[good.index(b"\r\n") :], expected))
    for i, garbage in enumerate(
        [
            b"",
            b"\x00" * 100,
            b"\xff\xfe\xfd" * 50,
            b"hello",
            b"GET / HTTP/1.1\r\n\r\n",
            bytes(range(256)),
            b"\r\n\r\n\r\n",
            b"INVITE",
            b":::::\r\n\r\n",
        ]
    ):
        cases.append((f"garbage-{i}", garbage, None))
    cases.append(
        ("header-without-colon", good.replace(b"Max-Forwards: 70", b"Max-Forwards 70"), 400)
    )
    cases.append(("nul-in-header", good.replace(b"Max-Forwards: 70", b"Subject: a\x00b"), 400))
    cases.append(("latin1-header", good.replace(b"Max-Forwards: 70", b"Subject: \xe5\xe4"), 400))
    cases.append(("body-no-type", _replace_line(good, b"Content-Type:", None), 400))
    return cases
