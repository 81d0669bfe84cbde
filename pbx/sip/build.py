"""Building SIP messages: responses to requests, outgoing requests, and the error answer to a
message that did not parse.

Tags and branches are parameters so that building stays pure; `new_tag` / `new_branch` make
fresh random ones for the caller. A response's To-tag defaults to one derived from the
request (Call-ID, From-tag, branch), so a retransmitted request gets the same tag back even
from a stateless error path.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable

from pbx.sip.errors import SipParseError
from pbx.sip.headers import (
    Headers,
    NameAddr,
    Via,
    key,
    parse_cseq,
    parse_name_addr,
    parse_via,
)
from pbx.sip.message import CALL_ID, MAX_MESSAGE, SipRequest, SipResponse, split_head

BRANCH_MAGIC = "z9hG4bK"  # RFC 3261 §8.1.1.7: marks branches that are unique per transaction
USER_AGENT = "Vaxel"
_DIALOG_RESPONSE = range(101, 300)


def new_tag() -> str:
    return secrets.token_hex(8)


def new_branch() -> str:
    return BRANCH_MAGIC + secrets.token_hex(10)


def derived_tag(request: SipRequest) -> str:
    """A To-tag that a retransmission of `request` gets again."""
    vias = request.headers.get_all("Via")
    seed = "|".join((request.call_id, request.from_.tag or "", vias[0] if vias else ""))
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()[:16]


def response_to(
    request: SipRequest,
    status: int,
    reason: str,
    *,
    to_tag: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    content_type: str | None = None,
) -> SipResponse:
    """A response copying Via (all, in order), From, To (+ tag), Call-ID and CSeq (§8.2.6).

    100 Trying gets no To-tag (it creates no dialog); every other response does, unless the
    request's To already had one (an in-dialog request). Record-Route is copied into
    responses that can establish a dialog (§12.1.1)."""
    items: list[tuple[str, str]] = [("Via", v) for v in request.headers.get_all("Via")]
    to = request.headers.get("To") or ""
    if status != 100 and request.to.tag is None:
        to = request.to.with_tag(to_tag or derived_tag(request)).format()
    items += [
        ("From", request.headers.get("From") or ""),
        ("To", to),
        ("Call-ID", request.call_id),
        ("CSeq", request.headers.get("CSeq") or ""),
    ]
    if status in _DIALOG_RESPONSE:
        items += [("Record-Route", v) for v in request.headers.get_all("Record-Route")]
    items += list(headers)
    items.append(("Server", USER_AGENT))
    if body and content_type:
        items.append(("Content-Type", content_type))
    return SipResponse(Headers(tuple(items)), body, status=status, reason=reason)


def build_request(
    method: str,
    uri: str,
    *,
    via: Via,
    from_: NameAddr,
    to: NameAddr,
    call_id: str,
    cseq: int,
    contact: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    content_type: str | None = None,
    max_forwards: int = 70,
) -> SipRequest:
    """An outgoing request (INVITE, BYE, CANCEL, ACK, OPTIONS, INFO...). `via` must carry
    the branch (`new_branch()`); `from_` must carry our tag."""
    if via.branch is None or not via.branch.startswith(BRANCH_MAGIC):
        raise ValueError("the Via needs a z9hG4bK branch")
    items: list[tuple[str, str]] = [
        ("Via", via.format()),
        ("Max-Forwards", str(max_forwards)),
        ("From", from_.format()),
        ("To", to.format()),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq} {method}"),
    ]
    if contact is not None:
        items.append(("Contact", contact))
    items += list(headers)
    items.append(("User-Agent", USER_AGENT))
    if body and content_type:
        items.append(("Content-Type", content_type))
    return SipRequest(Headers(tuple(items)), body, method=method, uri=uri)


def cancel_for(invite: SipRequest) -> SipRequest:
    """CANCEL of a pending INVITE: same Request-URI, top Via, From, To, Call-ID and CSeq
    number (§9.1), so the other side matches it to the INVITE's transaction."""
    h = invite.headers
    items = (
        ("Via", h.get_all("Via")[0]),
        ("Max-Forwards", "70"),
        ("From", h.get("From") or ""),
        ("To", h.get("To") or ""),
        ("Call-ID", invite.call_id),
        ("CSeq", f"{invite.cseq.number} CANCEL"),
        *(("Route", r) for r in h.get_all("Route")),
    )
    return SipRequest(Headers(items), method="CANCEL", uri=invite.uri)


def ack_for_failure(invite: SipRequest, response: SipResponse) -> SipRequest:
    """ACK of a non-2xx final response: part of the INVITE transaction, so it reuses the
    INVITE's branch and takes the To (with tag) from the response (§17.1.1.3)."""
    h = invite.headers
    items = (
        ("Via", h.get_all("Via")[0]),
        ("Max-Forwards", "70"),
        ("From", h.get("From") or ""),
        ("To", response.headers.get("To") or ""),
        ("Call-ID", invite.call_id),
        ("CSeq", f"{invite.cseq.number} ACK"),
        *(("Route", r) for r in h.get_all("Route")),
    )
    return SipRequest(Headers(items), method="ACK", uri=invite.uri)


def with_received(request: SipRequest, host: str, port: int) -> SipRequest:
    """Stamp the top Via with where the request really came from (§18.2.1, RFC 3581), so
    responses go back to the source even behind NAT."""
    vias = list(request.headers.get_all("Via"))
    top = _via_or_none(vias[0])
    if top is None:
        return request
    if top.host != host:
        top = top.with_param("received", host)
    if top.rport == "":
        top = top.with_param("rport", str(port)).with_param("received", host)
    vias[0] = top.format()
    rest = request.headers.without("Via")
    items = tuple(("Via", v) for v in vias) + rest.items
    return SipRequest(Headers(items), request.body, method=request.method, uri=request.uri)


def _via_or_none(value: str) -> Via | None:
    try:
        return parse_via(value)
    except SipParseError:
        return None


_ANSWER_HEADS = ("via", "from", "to", "call-id", "cseq")
_LINE = re.compile(rb"([A-Za-z!%*_+`'~.\-]+)[ \t]*:[ \t]*([\x20-\x7e\t]*)")


def error_response(data: bytes, error: SipParseError) -> bytes | None:
    """The answer to a datagram that failed to parse, or None when it must be dropped.

    Only a request can be answered (never an ACK, never a response), and only when the
    headers that route a response back (Via, From, To, Call-ID, CSeq) can be read from its
    first lines; anything else is silently dropped, which is what scanners deserve."""
    found = _salvage(data[:MAX_MESSAGE])
    if found is None:
        return None
    method, heads = found
    if method == "ACK" or not _routable(method, heads):
        return None
    to = heads["to"] if ";tag=" in heads["to"] else heads["to"] + ";tag=" + _tag_for(heads)
    lines = [f"SIP/2.0 {error.status} {error.reason}"]
    lines += [f"Via: {v}" for v in heads["via"].split("\n")]
    lines += [f"From: {heads['from']}", f"To: {to}", f"Call-ID: {heads['call-id']}"]
    lines += [f"CSeq: {heads['cseq']}", f"Server: {USER_AGENT}", "Content-Length: 0"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def _routable(method: str, heads: dict[str, str]) -> bool:
    """Whether the salvaged headers are good enough to route an answer back and let the
    sender match it to its transaction."""
    if any(h not in heads for h in _ANSWER_HEADS):
        return False
    if not CALL_ID.fullmatch(heads["call-id"]):  # a tab inside it: our answer would not parse
        return False
    try:
        for via in heads["via"].split("\n"):
            parse_via(via)
        parse_name_addr(heads["from"])
        parse_name_addr(heads["to"])
        return parse_cseq(heads["cseq"]).method == method
    except SipParseError:
        return False


def _salvage(data: bytes) -> tuple[str, dict[str, str]] | None:
    try:
        head, _ = split_head(data)
    except SipParseError:
        head = data.split(b"\r\n\r\n", 1)[0]
    lines = head.split(b"\r\n")
    method = re.fullmatch(rb"([A-Z]{2,16}) \S+ SIP/[0-9]\.[0-9]", lines[0])
    if method is None:
        return None
    heads: dict[str, str] = {}
    for raw in lines[1 : 1 + 100]:
        m = _LINE.fullmatch(raw[:1024])
        if m is None:
            continue
        k = key(m.group(1).decode("ascii"))
        value = m.group(2).decode("ascii").strip()
        if k == "via" and "via" in heads:
            heads["via"] += "\n" + value
        elif k in _ANSWER_HEADS and k not in heads and value:
            heads[k] = value
    return method.group(1).decode("ascii"), heads


def _tag_for(heads: dict[str, str]) -> str:
    seed = "|".join((heads["call-id"], heads["from"], heads["via"]))
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()[:16]
