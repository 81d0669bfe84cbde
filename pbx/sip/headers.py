"""SIP header names and the structured values the front relies on (RFC 3261 §7.3, §20).

Names compare case-insensitively and the compact forms (`v`, `f`, `t`, `i`, `m`, `l`, `c`,
`k`, `s`, ...) mean their long names; we always write the long, canonical spelling. A header
that may hold a list (Via, Contact, Route, ...) may come as several lines or as one line with
commas: `Headers.get_all` gives the list either way. Only the values the front needs are
parsed into dataclasses (Via, From/To/Contact name-addr, CSeq); everything else stays text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from pbx.sip.errors import SipParseError

COMPACT = {
    "v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length",
    "c": "content-type", "k": "supported", "s": "subject", "e": "content-encoding",
    "o": "event", "r": "refer-to", "u": "allow-events", "x": "session-expires",
}  # fmt: skip

_CANONICAL = {
    name.lower(): name
    for name in (
        "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Content-Length", "Content-Type",
        "Max-Forwards", "Supported", "Subject", "Content-Encoding", "Event", "Refer-To",
        "Allow-Events", "Session-Expires", "Route", "Record-Route", "Allow", "Require",
        "Proxy-Require", "Unsupported", "Accept", "User-Agent", "Server", "Expires",
        "WWW-Authenticate", "Authorization", "Proxy-Authenticate", "Proxy-Authorization",
        "Retry-After", "Timestamp", "Date", "Warning", "Reason",
    )
}  # fmt: skip

# Headers whose grammar is a comma-separated list (RFC 3261 §7.3.1); the authentication
# headers are *not* here: their single value contains commas.
MULTI_VALUED = frozenset({
    "via", "contact", "route", "record-route", "allow", "supported", "require",
    "proxy-require", "unsupported", "accept", "accept-encoding", "accept-language",
    "allow-events", "content-encoding", "in-reply-to",
})  # fmt: skip

# Headers that must appear at most once: two different Call-IDs or CSeqs make a message
# whose transaction cannot be known, so it is refused rather than guessed.
SINGLETON = frozenset(
    {"call-id", "cseq", "from", "to", "content-length", "content-type", "max-forwards"}
)

TOKEN = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")


def key(name: str) -> str:
    """The lookup key of a header name: lower case, compact form expanded."""
    low = name.strip().lower()
    return COMPACT.get(low, low)


def canonical_name(name: str) -> str:
    """The spelling we write: `call-id` and `i` → `Call-ID`; unknown names as given."""
    k = key(name)
    return _CANONICAL.get(k, name.strip())


def split_commas(value: str) -> list[str]:
    """Split a list header at commas outside quotes and <...> (a URI may hold commas)."""
    parts: list[str] = []
    start, depth, quoted, escaped = 0, 0, False, False
    for i, ch in enumerate(value):
        if escaped:
            escaped = False
        elif quoted:
            escaped = ch == "\\"
            quoted = ch != '"'
        elif ch == '"':
            quoted = True
        elif ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(value[start:i].strip())
            start = i + 1
    parts.append(value[start:].strip())
    return [p for p in parts if p]


def route_set(record_route: tuple[str, ...]) -> tuple[str, ...]:
    """Record-Route header values as a dialog's route-set entries, in header order (one
    header may list several proxies, comma-separated; §12.1)."""
    return tuple(entry for value in record_route for entry in split_commas(value))


@dataclass(frozen=True, slots=True)
class Headers:
    """An ordered, immutable list of (canonical name, value) pairs."""

    items: tuple[tuple[str, str], ...] = ()

    def get(self, name: str) -> str | None:
        """The first value of `name` (whole line, not split), or None."""
        k = key(name)
        return next((v for n, v in self.items if key(n) == k), None)

    def get_all(self, name: str) -> tuple[str, ...]:
        """Every value of `name`, list headers split at their commas."""
        k = key(name)
        lines = [v for n, v in self.items if key(n) == k]
        if k not in MULTI_VALUED:
            return tuple(lines)
        return tuple(part for line in lines for part in split_commas(line))

    def without(self, name: str) -> Headers:
        k = key(name)
        return Headers(tuple((n, v) for n, v in self.items if key(n) != k))

    def adding(self, name: str, value: str) -> Headers:
        return Headers((*self.items, (canonical_name(name), value)))

    def setting(self, name: str, value: str) -> Headers:
        """Replace every `name` with one value (kept at the first one's position)."""
        k = key(name)
        out: list[tuple[str, str]] = []
        done = False
        for n, v in self.items:
            if key(n) != k:
                out.append((n, v))
            elif not done:
                out.append((canonical_name(name), value))
                done = True
        if not done:
            out.append((canonical_name(name), value))
        return Headers(tuple(out))


Params = tuple[tuple[str, str | None], ...]


def parse_params(text: str) -> Params:
    """`;a=b;c` → (("a", "b"), ("c", None)); names lower-cased."""
    out: list[tuple[str, str | None]] = []
    for raw in text.split(";"):
        raw = raw.strip()
        if not raw:
            continue
        name, eq, value = raw.partition("=")
        name = name.strip().lower()
        if not TOKEN.fullmatch(name):
            raise SipParseError(f"bad parameter {raw!r}")
        out.append((name, value.strip().strip('"') if eq else None))
    return tuple(out)


def format_params(params: Params) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params)


def param(params: Params, name: str) -> str | None:
    """A parameter's value ('' for a flag like `rport`), None when absent."""
    for k, v in params:
        if k == name:
            return "" if v is None else v
    return None


def _set_param(params: Params, name: str, value: str | None) -> Params:
    kept = tuple((k, v) for k, v in params if k != name)
    return (*kept, (name, value))


_VIA = re.compile(r"SIP\s*/\s*2\.0\s*/\s*([A-Za-z]+)\s+([^;\s]+)\s*(;.*)?", re.S)


@dataclass(frozen=True, slots=True)
class Via:
    """One Via value: `SIP/2.0/UDP host:port;branch=...;rport;received=...`."""

    transport: str
    host: str
    port: int | None
    params: Params = ()

    @property
    def branch(self) -> str | None:
        return param(self.params, "branch")

    @property
    def received(self) -> str | None:
        return param(self.params, "received")

    @property
    def rport(self) -> str | None:
        """'' when the sender asked for rport (RFC 3581), the port once filled, else None."""
        return param(self.params, "rport")

    def with_param(self, name: str, value: str | None) -> Via:
        return replace(self, params=_set_param(self.params, name, value))

    def format(self) -> str:
        where = self.host if self.port is None else f"{self.host}:{self.port}"
        return f"SIP/2.0/{self.transport} {where}{format_params(self.params)}"


def split_hostport(text: str) -> tuple[str, int | None]:
    """`host`, `host:5060`, `[::1]:5060` → (host, port)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
        host = f"[{host}]"
    else:
        host, _, port_text = text.partition(":")
    if not host or not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+", host):
        raise SipParseError(f"bad host {text!r}")
    if not port_text:
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise SipParseError(f"bad port {text!r}")
    return host, int(port_text)


def parse_via(value: str) -> Via:
    m = _VIA.fullmatch(value.strip())
    if m is None:
        raise SipParseError(f"bad Via {value[:80]!r}")
    host, port = split_hostport(m.group(2))
    return Via(m.group(1).upper(), host, port, parse_params(m.group(3) or ""))


@dataclass(frozen=True, slots=True)
class NameAddr:
    """From / To / Contact: `"Display" <sip:user@host>;tag=...` (or a bare URI)."""

    uri: str
    display: str = ""
    params: Params = ()

    @property
    def tag(self) -> str | None:
        return param(self.params, "tag")

    @property
    def user(self) -> str:
        """The user part of a sip:/sips:/tel: URI ('' when it has none)."""
        rest = self.uri.split(":", 1)[1] if ":" in self.uri else self.uri
        user, at, _ = rest.partition("@")
        if at:
            return user.split(";")[0]
        return rest.split(";")[0] if self.uri.startswith("tel:") else ""

    def with_tag(self, tag: str) -> NameAddr:
        return replace(self, params=_set_param(self.params, "tag", tag))

    def format(self) -> str:
        shown = f'"{self.display}" ' if self.display else ""
        return f"{shown}<{self.uri}>{format_params(self.params)}"


_NAME_ADDR = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<([^<>]+)>\s*(;.*)?', re.S)


def parse_name_addr(value: str) -> NameAddr:
    m = _NAME_ADDR.fullmatch(value)
    if m:
        display = (m.group(1) if m.group(1) is not None else m.group(2) or "").strip()
        uri, rest = m.group(3).strip(), m.group(4) or ""
    else:  # addr-spec without <>: its ;params belong to the header, not the URI
        uri, _, rest = value.strip().partition(";")
        rest = ";" + rest if rest else ""
        display = ""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+", uri) and uri != "*":
        raise SipParseError(f"bad address {value[:80]!r}")
    return NameAddr(uri, display, parse_params(rest))


@dataclass(frozen=True, slots=True)
class CSeq:
    number: int
    method: str

    def format(self) -> str:
        return f"{self.number} {self.method}"


def parse_cseq(value: str) -> CSeq:
    parts = value.split()
    if len(parts) != 2 or not parts[0].isdigit() or not TOKEN.fullmatch(parts[1]):
        raise SipParseError(f"bad CSeq {value[:80]!r}")
    number = int(parts[0])
    if number >= 2**31:
        raise SipParseError("CSeq number out of range")
    return CSeq(number, parts[1])
