"""A bare SIP client over UDP for the refusal and bad-input tests: it writes requests as
text (so they can be as wrong as a test needs) and reads the answers."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import cast

from pbx.sip.message import SipResponse, parse_datagram
from tests.phone.call_world import LOOPBACK

OFFER = (
    "v=0\r\no=t 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP {formats}\r\n{attributes}"
)
PCMU = "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"


def offer(port: int = 40000, formats: str = "0 101", attributes: str = PCMU) -> str:
    return OFFER.format(port=port, formats=formats, attributes=attributes)


class _Socket(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queue.put_nowait(data)


@dataclass
class SipClient:
    """One UDP socket on 127.0.0.1 talking to the worker at `target`."""

    target: int
    transport: asyncio.DatagramTransport
    inbox: _Socket
    user_agent: str = "test-client"
    call_id: str = field(default_factory=lambda: secrets.token_hex(8))
    tag: str = field(default_factory=lambda: secrets.token_hex(4))

    @classmethod
    async def open(cls, target: int, port: int = 0, user_agent: str = "test-client") -> SipClient:
        loop = asyncio.get_running_loop()
        transport, inbox = await loop.create_datagram_endpoint(_Socket, local_addr=(LOOPBACK, port))
        return cls(target, cast(asyncio.DatagramTransport, transport), inbox, user_agent)

    @property
    def port(self) -> int:
        return int(self.transport.get_extra_info("sockname")[1])

    def close(self) -> None:
        self.transport.close()

    def send_raw(self, data: bytes) -> None:
        self.transport.sendto(data, (LOOPBACK, self.target))

    def request(
        self, method: str, user: str, *, body: str = "", cseq: int = 1, to_tag: str = "",
        headers: tuple[str, ...] = (), call_id: str = "",
    ) -> bytes:  # fmt: skip
        uri = f"sip:{user}@{LOOPBACK}:{self.target}"
        lines = [
            f"{method} {uri} SIP/2.0",
            f"Via: SIP/2.0/UDP {LOOPBACK}:{self.port};branch=z9hG4bK{secrets.token_hex(6)};rport",
            "Max-Forwards: 70",
            f"From: <sip:caller@{LOOPBACK}:{self.port}>;tag={self.tag}",
            f"To: <{uri}>" + (f";tag={to_tag}" if to_tag else ""),
            f"Call-ID: {call_id or self.call_id}",
            f"CSeq: {cseq} {method}",
            f"Contact: <sip:caller@{LOOPBACK}:{self.port}>",
            f"User-Agent: {self.user_agent}",
            *headers,
        ]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        data = ("\r\n".join(lines) + "\r\n\r\n" + body).encode()
        self.send_raw(data)
        return data

    async def answer(self, timeout: float = 5.0, final: bool = True) -> SipResponse:
        """The next response (the next final one when `final`)."""
        while True:
            message = parse_datagram(await asyncio.wait_for(self.inbox.queue.get(), timeout))
            if isinstance(message, SipResponse) and (message.status >= 200 or not final):
                return message

    async def silence(self, wait: float = 0.5) -> bool:
        """True when nothing at all arrives within `wait` seconds."""
        try:
            await asyncio.wait_for(self.inbox.queue.get(), wait)
        except TimeoutError:
            return True
        return False


def digest_header(
    challenge: str, *, username: str, password: str, method: str, uri: str, header: str
) -> str:
    """An MD5 digest answer to a `WWW-Authenticate` challenge (RFC 2617, qop=auth)."""
    fields = dict(re.findall(r'(\w+)="?([^",]+)"?', challenge))
    cnonce, nc = secrets.token_hex(4), "00000001"

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - the protocol's hash

    ha1 = md5(f"{username}:{fields['realm']}:{password}")
    response = md5(f"{ha1}:{fields['nonce']}:{nc}:{cnonce}:auth:{md5(f'{method}:{uri}')}")
    return (
        f'{header}: Digest username="{username}", realm="{fields["realm"]}", '
        f'nonce="{fields["nonce"]}", uri="{uri}", response="{response}", algorithm=MD5, '
        f'qop=auth, nc={nc}, cnonce="{cnonce}"'
    )
