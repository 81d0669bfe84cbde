"""SIP over UDP and TCP (RFC 3261 §18): the sockets of the front, nothing else.

One `SipTransport` listens on one address and port for both protocols and hands every
parsed message, with where it came from (`Peer`), to one handler callable. What happens to
input the parser refuses is decided here once: a request we can route an answer to gets its
4xx/5xx (`pbx.sip.build.error_response`), anything else is dropped; a TCP stream whose framing
is lost is closed. No input and no handler error stops the listener.

Sending is only ever to loopback unless the owner says otherwise (`allow_remote`): tests and
benchmarks run on 127.0.0.1 and a bug must not make them talk to the world.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pbx.phone.errors import PeerGone, RemoteAddressRefused, check_address
from pbx.sip import timers
from pbx.sip.build import error_response, with_received
from pbx.sip.errors import SipParseError
from pbx.sip.message import (
    SipRequest,
    SipResponse,
    StreamFramer,
    is_keepalive,
    parse_datagram,
    parse_stream_message,
)

log = logging.getLogger(__name__)

Message = SipRequest | SipResponse
Protocol = Literal["udp", "tcp"]


@dataclass(frozen=True, slots=True)
class Peer:
    """Where a message came from, and where its answers go. TCP peers name their
    connection: responses must go back on the connection the request came on (§18.2.2)."""

    protocol: Protocol
    host: str
    port: int
    connection: int = 0


Handler = Callable[[Message, Peer], object]  # may return an awaitable; it is then awaited


@dataclass
class TransportStats:
    received: int = 0
    dropped: int = 0
    error_answers: int = 0
    handler_errors: int = 0
    tcp_connections: int = 0


@dataclass(frozen=True, slots=True)
class TransportConfig:
    host: str = "127.0.0.1"
    port: int = 5060  # 0 picks a free port (tests)
    max_tcp_connections: int = 512
    tcp_idle_timeout: float = 300.0
    allow_remote: bool = False
    t1: float = timers.T1
    t2: float = timers.T2


class Retransmission:
    """A message sent again on the RFC 3261 schedule until `stop()` (the ACK came) or
    64·T1 passed (`on_timeout` runs: the call should be ended)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        send: Callable[[], None],
        offsets: tuple[float, ...],
        give_up: float,
        on_timeout: Callable[[], None] | None,
    ) -> None:
        self._handles = [loop.call_later(at, send) for at in offsets]
        if on_timeout is not None:
            self._handles.append(loop.call_later(give_up, on_timeout))
        self.active = True

    def stop(self) -> None:
        self.active = False
        for handle in self._handles:
            handle.cancel()


@dataclass
class _Connections:
    writers: dict[int, asyncio.StreamWriter] = field(default_factory=dict)
    next_id: int = 1


class SipTransport:
    """The UDP and TCP listeners of one worker. `await start()`, `send(...)`, `await close()`."""

    def __init__(self, handler: Handler, config: TransportConfig | None = None) -> None:
        self.config = config or TransportConfig()
        self.stats = TransportStats()
        self._handler = handler
        self._udp: asyncio.DatagramTransport | None = None
        self._server: asyncio.Server | None = None
        self._tcp = _Connections()
        self._tasks: set[asyncio.Task[object]] = set()
        self._retransmissions: set[Retransmission] = set()
        self.port = self.config.port

    async def start(self) -> None:
        """Bind UDP, then TCP on the same port number (retrying when port 0 collides)."""
        loop = asyncio.get_running_loop()
        for _ in range(20):
            self._udp, _protocol = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self), local_addr=(self.config.host, self.config.port)
            )
            self.port = self._udp.get_extra_info("sockname")[1]
            try:
                self._server = await asyncio.start_server(
                    self._serve_tcp, self.config.host, self.port, reuse_address=True
                )
                return
            except OSError:
                self._udp.close()
                if self.config.port:
                    raise
        raise OSError("no free port for UDP and TCP together")

    async def close(self) -> None:
        """Stop listening, close every connection, cancel retransmissions and handlers."""
        for retransmission in list(self._retransmissions):
            retransmission.stop()
        if self._udp is not None:
            self._udp.close()
        if self._server is not None:
            self._server.close()
        for writer in list(self._tcp.writers.values()):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    # --- sending ---------------------------------------------------------------------

    def send(self, message: Message, peer: Peer) -> None:
        """Send a request or response to `peer` (a TCP peer: on its connection)."""
        self.send_bytes(message.to_bytes(), peer)

    def send_bytes(self, data: bytes, peer: Peer) -> None:
        self._check_address(peer.host)
        if peer.protocol == "tcp":
            writer = self._tcp.writers.get(peer.connection)
            if writer is None or writer.is_closing():
                raise PeerGone(f"TCP connection {peer.connection} is closed")
            writer.write(data)
        elif self._udp is not None:
            self._udp.sendto(data, (peer.host, peer.port))

    def send_reliably(
        self, message: Message, peer: Peer, on_timeout: Callable[[], None] | None = None
    ) -> Retransmission:
        """Send a 2xx to an INVITE (or a request) and repeat it over UDP on the T1..T2
        schedule until the returned handle is stopped; TCP is reliable, so only the
        give-up timer runs there."""
        self.send(message, peer)
        data = message.to_bytes()
        offsets = (
            ()
            if peer.protocol == "tcp"
            else timers.answer_retransmissions(self.config.t1, self.config.t2)
        )

        def again() -> None:
            with contextlib.suppress(PeerGone, OSError):
                self.send_bytes(data, peer)

        def expired() -> None:
            self._retransmissions.discard(handle)
            if on_timeout is not None:
                on_timeout()

        loop = asyncio.get_running_loop()
        handle = Retransmission(loop, again, offsets, timers.timeout(self.config.t1), expired)
        self._retransmissions.add(handle)
        return handle

    def connection_to(self, host: str, port: int) -> int | None:
        """The open TCP connection whose far end is host:port (a phone registered over
        TCP is rung on the connection it registered on), or None."""
        for conn, writer in self._tcp.writers.items():
            if writer.is_closing():
                continue
            if tuple(writer.get_extra_info("peername")[:2]) == (host, port):
                return conn
        return None

    def _check_address(self, host: str) -> None:
        check_address(host, allow_remote=self.config.allow_remote)

    # --- receiving -------------------------------------------------------------------

    def on_datagram(self, data: bytes, host: str, port: int) -> None:
        if is_keepalive(data):
            return
        self._accept(data, Peer("udp", host, port), parse_datagram)

    def _accept(self, data: bytes, peer: Peer, parse: Callable[[bytes], Message]) -> None:
        """Parse and dispatch one message; answer or drop what does not parse."""
        try:
            message = parse(data)
        except SipParseError as exc:
            self._refuse(data, exc, peer)
            return
        self.stats.received += 1
        if isinstance(message, SipRequest):
            message = with_received(message, peer.host, peer.port)
        self._dispatch(message, peer)

    def _refuse(self, data: bytes, exc: SipParseError, peer: Peer) -> None:
        answer = error_response(data, exc)
        if answer is None:
            self.stats.dropped += 1
            return
        self.stats.error_answers += 1
        with contextlib.suppress(PeerGone, OSError, RemoteAddressRefused):
            self.send_bytes(answer, peer)

    def _dispatch(self, message: Message, peer: Peer) -> None:
        try:
            result = self._handler(message, peer)
        except Exception:  # noqa: BLE001 - a handler bug must not stop the listener
            self.stats.handler_errors += 1
            log.exception("SIP handler failed on %s", type(message).__name__)
            return
        if inspect.isawaitable(result):
            task: asyncio.Task[object] = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._handler_done)

    def _handler_done(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.stats.handler_errors += 1
            log.error("SIP handler failed", exc_info=task.exception())

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._tcp.writers) >= self.config.max_tcp_connections:
            writer.close()
            return
        conn = self._tcp.next_id
        self._tcp.next_id += 1
        self._tcp.writers[conn] = writer
        self.stats.tcp_connections += 1
        host, port = writer.get_extra_info("peername")[:2]
        try:
            await self._read_stream(reader, Peer("tcp", host, port, conn))
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tcp.writers.pop(conn, None)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _read_stream(self, reader: asyncio.StreamReader, peer: Peer) -> None:
        framer = StreamFramer()
        while True:
            data = await asyncio.wait_for(reader.read(65536), self.config.tcp_idle_timeout)
            if not data:
                return
            try:
                frames = framer.feed(data)
            except SipParseError as exc:  # framing lost: answer if we can, then hang up
                self._refuse(data, exc, peer)
                return
            for frame in frames:
                self._accept(frame, peer, parse_stream_message)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, owner: SipTransport) -> None:
        self._owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        try:
            self._owner.on_datagram(data, str(addr[0]), int(addr[1]))
        except Exception:  # noqa: BLE001 - nothing a datagram does may stop the listener
            self._owner.stats.dropped += 1
            log.exception("SIP datagram from %s dropped", addr)

    def error_received(self, exc: Exception) -> None:
        """ICMP errors (port unreachable after a phone went away) are normal: ignore."""
        log.debug("UDP error: %s", exc)
