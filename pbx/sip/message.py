"""SIP requests and responses: parsing, validation and serialisation (RFC 3261 §7, §18.3).

Strict on purpose: the front faces scanners and broken phones, so a message that is too big,
has too many or too long header lines, duplicates a header that must be single, lacks one
that every request needs, or disagrees with its own Content-Length raises `SipParseError`
with the status to answer. Limits are checked before any work proportional to the input.

Framing differs by transport: a UDP datagram is one message (a body without a
Content-Length is refused, a Content-Length larger than the body is refused, a smaller one
cuts the body as §18.3 says); on TCP the Content-Length is the only frame boundary, so it
is mandatory and `StreamFramer` cuts the byte stream into messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from pbx.sip.errors import SipParseError
from pbx.sip.headers import (
    SINGLETON,
    TOKEN,
    CSeq,
    Headers,
    NameAddr,
    Via,
    canonical_name,
    key,
    parse_cseq,
    parse_name_addr,
    parse_via,
)

MAX_MESSAGE = 64 * 1024
MAX_HEADERS = 100
MAX_LINE = 8 * 1024
VERSION = "SIP/2.0"
URI_SCHEMES = ("sip", "sips", "tel")
REQUIRED = ("via", "from", "to", "call-id", "cseq")

_STATUS_LINE = re.compile(r"SIP/2\.0 ([1-6][0-9]{2}) ?([^\r\n]*)")
CALL_ID = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True, slots=True)
class SipMessage:
    """What requests and responses share: headers, body, and the parsed key headers."""

    headers: Headers
    body: bytes = b""

    @property
    def vias(self) -> tuple[Via, ...]:
        return tuple(parse_via(v) for v in self.headers.get_all("Via"))

    @property
    def from_(self) -> NameAddr:
        return parse_name_addr(self._need("From"))

    @property
    def to(self) -> NameAddr:
        return parse_name_addr(self._need("To"))

    @property
    def call_id(self) -> str:
        return self._need("Call-ID")

    @property
    def cseq(self) -> CSeq:
        return parse_cseq(self._need("CSeq"))

    @property
    def content_type(self) -> str:
        """The media type, lower case, without parameters ('' when absent)."""
        value = self.headers.get("Content-Type") or ""
        return value.split(";")[0].strip().lower()

    def _need(self, name: str) -> str:
        value = self.headers.get(name)
        if value is None:
            raise SipParseError(f"missing {name}")
        return value

    def _head_lines(self) -> list[str]:
        lines = [f"{n}: {v}" for n, v in self.headers.without("Content-Length").items]
        lines.append(f"Content-Length: {len(self.body)}")
        return lines


@dataclass(frozen=True, slots=True)
class SipRequest(SipMessage):
    method: str = ""
    uri: str = ""

    def to_bytes(self) -> bytes:
        head = "\r\n".join([f"{self.method} {self.uri} {VERSION}", *self._head_lines()])
        return head.encode("utf-8") + b"\r\n\r\n" + self.body


@dataclass(frozen=True, slots=True)
class SipResponse(SipMessage):
    status: int = 200
    reason: str = "OK"

    def to_bytes(self) -> bytes:
        head = "\r\n".join([f"{VERSION} {self.status} {self.reason}", *self._head_lines()])
        return head.encode("utf-8") + b"\r\n\r\n" + self.body


def with_headers(message: SipRequest | SipResponse, headers: Headers) -> SipRequest | SipResponse:
    return replace(message, headers=headers)


def is_keepalive(data: bytes) -> bool:
    """A CRLF keep-alive (RFC 5626) or an empty datagram: ignored, never answered."""
    return data.strip(b"\r\n") == b""


def parse_datagram(data: bytes) -> SipRequest | SipResponse:
    """One UDP datagram → a validated message (or SipParseError)."""
    head, body = split_head(data)
    message = parse_head(head)
    return _with_body(message, body, stream=False)


def split_head(data: bytes) -> tuple[bytes, bytes]:
    """Cut a message at its blank line, after the size check and leading CRLFs."""
    if len(data) > MAX_MESSAGE:
        raise SipParseError("message too large", 513)
    data = data.lstrip(b"\r\n")
    end = data.find(b"\r\n\r\n")
    if end < 0:  # a message cut short: its body (and even headers) may be missing
        raise SipParseError("message truncated (no end of headers)")
    return data[:end], data[end + 4 :]


def parse_head(head: bytes) -> SipRequest | SipResponse:
    """Start line and header lines → a message without body (validated)."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError("headers are not UTF-8") from exc
    start, *raw_lines = text.split("\r\n")
    headers = Headers(tuple(_header_lines(raw_lines)))
    _check_headers(headers)
    message = _start_line(start, headers)
    _check_message(message)
    return message


def _header_lines(raw_lines: list[str]) -> list[tuple[str, str]]:
    """Unfold continuation lines and split `name: value` within the limits."""
    out: list[tuple[str, str]] = []
    for line in raw_lines:
        if len(line) > MAX_LINE:
            raise SipParseError("header line too long", 513)
        if line[:1] in (" ", "\t") and out:
            name, value = out[-1]
            out[-1] = (name, f"{value} {line.strip()}")
            if len(out[-1][1]) > MAX_LINE:
                raise SipParseError("header line too long", 513)
            continue
        name, colon, value = line.partition(":")
        if not colon or not TOKEN.fullmatch(name.strip()):
            raise SipParseError(f"bad header line {line[:60]!r}")
        if any(ch in value for ch in "\x00\r\n"):
            raise SipParseError("control character in header")
        out.append((canonical_name(name), value.strip()))
        if len(out) > MAX_HEADERS:
            raise SipParseError("too many headers", 513)
    return out


def _check_headers(headers: Headers) -> None:
    seen: set[str] = set()
    for name, _ in headers.items:
        k = key(name)
        if k in SINGLETON and k in seen:
            raise SipParseError(f"duplicate {name}")
        seen.add(k)


def _start_line(line: str, headers: Headers) -> SipRequest | SipResponse:
    if line.startswith("SIP/"):
        m = _STATUS_LINE.fullmatch(line)
        if m is None:
            raise SipParseError(f"bad status line {line[:60]!r}")
        return SipResponse(headers, status=int(m.group(1)), reason=m.group(2))
    parts = line.split(" ")
    if len(parts) != 3 or not TOKEN.fullmatch(parts[0]):
        raise SipParseError(f"bad request line {line[:60]!r}")
    method, uri, version = parts
    if version != VERSION:
        raise SipParseError(f"version {version[:20]!r}", 505)
    scheme, colon, rest = uri.partition(":")
    if not colon or not rest or not re.fullmatch(r"[\x21-\x7e]+", uri):
        raise SipParseError(f"bad Request-URI {uri[:60]!r}")
    if scheme.lower() not in URI_SCHEMES:
        raise SipParseError(f"URI scheme {scheme[:20]!r}", 416)
    return SipRequest(headers, method=method, uri=uri)


def _check_message(message: SipRequest | SipResponse) -> None:
    """Every request and response needs its transaction headers, readable."""
    h = message.headers
    missing = [name for name in REQUIRED if h.get(name) is None]
    if missing:
        raise SipParseError(f"missing {', '.join(missing)}")
    vias = message.vias
    if not vias:
        raise SipParseError("empty Via")
    message.from_, message.to  # noqa: B018 - parsing is the check
    if not CALL_ID.fullmatch(message.call_id):
        raise SipParseError("bad Call-ID")
    cseq = message.cseq
    if isinstance(message, SipRequest) and cseq.method != message.method:
        raise SipParseError("CSeq method differs from the request's")
    forwards = h.get("Max-Forwards")
    if forwards is not None and (not forwards.isdigit() or int(forwards) > 255):
        raise SipParseError("bad Max-Forwards")


def content_length(headers: Headers) -> int | None:
    value = headers.get("Content-Length")
    if value is None:
        return None
    if not value.isdigit() or len(value) > 6:
        raise SipParseError("bad Content-Length", fatal=True)
    return int(value)


def _with_body(
    message: SipRequest | SipResponse, body: bytes, *, stream: bool
) -> SipRequest | SipResponse:
    length = content_length(message.headers)
    if length is None:
        if stream:
            raise SipParseError("Content-Length is required on TCP", fatal=True)
        if body.strip(b"\r\n"):
            raise SipParseError("body without Content-Length")
        return message
    if length > len(body):
        raise SipParseError("Content-Length larger than the body")
    if message.headers.get("Content-Type") is None and length > 0:
        raise SipParseError("body without Content-Type")
    return replace(message, body=body[:length])


class StreamFramer:
    """Cuts a TCP byte stream into messages by Content-Length (RFC 3261 §18.3).

    Pure and incremental: `feed` takes whatever arrived and returns the complete messages'
    raw bytes; CRLF keep-alives between messages are skipped. A stream whose framing is lost
    (no end of headers within the size limit, a bad or missing Content-Length) raises a
    fatal SipParseError: the connection must be closed, nothing after it can be trusted.
    """

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        out: list[bytes] = []
        while True:
            frame = self._next()
            if frame is None:
                return out
            out.append(frame)

    def _next(self) -> bytes | None:
        self._buffer = self._buffer.lstrip(b"\r\n")
        end = self._buffer.find(b"\r\n\r\n", 0, MAX_MESSAGE + 4)
        if end < 0:
            if len(self._buffer) > MAX_MESSAGE:
                raise SipParseError("message too large", 513, fatal=True)
            return None
        length = _stream_length(self._buffer[:end])
        total = end + 4 + length
        if total > MAX_MESSAGE:
            raise SipParseError("message too large", 513, fatal=True)
        if len(self._buffer) < total:
            return None
        frame, self._buffer = self._buffer[:total], self._buffer[total:]
        return frame


def _stream_length(head: bytes) -> int:
    """The Content-Length of a head on a stream, read leniently just for framing."""
    values = re.findall(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*$", head)
    if len(values) != 1 or not values[0].isdigit() or len(values[0]) > 6:
        raise SipParseError("missing or bad Content-Length on a stream", fatal=True)
    return int(values[0])


def parse_stream_message(frame: bytes) -> SipRequest | SipResponse:
    """A frame cut by StreamFramer → a validated message."""
    head, body = split_head(frame)
    return _with_body(parse_head(head), body, stream=True)
