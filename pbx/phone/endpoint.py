"""One call's RTP endpoint: a UDP socket on 127.0.0.1, a play queue, capture and keys.

It does not pace itself: the worker's single media tick (`pbx.phone.media.MediaEngine`)
asks every playing endpoint for its next frame every 20 ms. Receiving is event-driven
(`loop.add_reader`), not a task per call. Symmetric RTP: the first source that sends us
RTP is where we send from then on; packets from any other source are ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pbx.phone.errors import RemoteAddressRefused
from pbx.phone.prompts import FRAME_SAMPLES, Frames, Pcm, ToneKind, is_silent
from pbx.sip import g711, rtp
from pbx.sip.dtmf import DtmfReceiver
from pbx.sip.errors import RtpError
from pbx.sip.sdp import MediaChoice

if TYPE_CHECKING:
    from pbx.phone.media import MediaEngine

MAX_CAPTURE_SECONDS = 600.0
_pack = rtp.HEADER.pack  # the fixed header, as rtp.build writes it (once per frame sent)
Address = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Capture:
    """What the caller said between `start_capture` and `stop_capture`."""

    pcm: Pcm
    seconds: float
    silent: bool


@dataclass
class EndpointStats:
    packets_in: int = 0
    foreign_packets: int = 0  # from another source after latching: ignored
    bad_packets: int = 0
    keys: int = 0


@dataclass(slots=True)
class _Playing:
    frames: Frames
    index: int = 0
    loop: bool = False
    count: int = 0  # frames.count, kept (the tick asks every 20 ms)

    def __post_init__(self) -> None:
        self.count = self.frames.count


class MediaEndpoint:
    """Made by `MediaEngine.open_endpoint`; closed with `close()`."""

    def __init__(self, engine: MediaEngine, sock: socket.socket, call_id: str) -> None:
        self.call_id = call_id
        self.local_port: int = sock.getsockname()[1]
        self.stats = EndpointStats()
        self.on_key: Callable[[str], None] | None = None
        self.on_drained: Callable[[], None] | None = None
        #: Every voice payload from the caller, as it arrives (a B2BUA bridge relays it).
        self.on_audio: Callable[[bytes], None] | None = None
        self.codec, self.payload_type = "PCMU", 0
        self._engine, self._sock = engine, sock
        self._remote: Address | None = None
        self._latched = False
        self._queue: deque[_Playing] = deque()
        self._waiters: list[asyncio.Future[None]] = []
        self._dtmf = DtmfReceiver(101)
        self._capture: list[bytes] | None = None
        self._capture_bytes = 0
        self._seq = secrets.randbits(16)  # random starts (RFC 3550 §5.1)
        self._ssrc = secrets.randbits(32)
        self._ts_base = secrets.randbits(32)
        self._last_ts = self._ts_base
        self._idle = True  # nothing sent since the last pause: the next packet is marked
        self._pending = False  # something was queued whose end has not been announced
        self.closed = False

    @property
    def fileno(self) -> int:
        return self._sock.fileno()

    # --- negotiation -----------------------------------------------------------------

    def use(self, choice: MediaChoice) -> None:
        """Apply an SDP negotiation: codec, key payload type and the remote address."""
        self.set_remote(choice.remote_address, choice.remote_port)
        self.codec, self.payload_type = choice.codec.name, choice.codec.pt
        self._dtmf = DtmfReceiver(choice.dtmf.pt if choice.dtmf else None)

    def set_remote(self, host: str, port: int) -> None:
        """Where to send until the caller's own packets show where it really is."""
        self._engine.check_address(host)
        if not self._latched:
            self._remote = (host, port)

    @property
    def remote(self) -> Address | None:
        return self._remote

    # --- playing ---------------------------------------------------------------------

    def play(self, frames: Frames, *, loop: bool = False) -> None:
        """Queue frames (after what is already queued). `loop` repeats until `stop()`."""
        if frames.count == 0:
            return
        self._queue.append(_Playing(frames, loop=loop))
        self._pending = True
        self._engine.wake(self)

    def play_master(self, master: bytes) -> None:
        """Queue a prompt master (WAV bytes), converted once per master and codec."""
        self.play(self._engine.prompts.frames(master, self.codec))

    def play_tone(self, kind: ToneKind, *, loop: bool = False) -> None:
        self.play(self._engine.prompts.tone(kind, self.codec), loop=loop or kind == "ringback")

    def stop(self) -> None:
        """Barge-in: drop everything queued; whoever waits for the queue is released."""
        self._queue.clear()
        self._idle = True
        if self._pending or self._waiters:
            self._drained()

    @property
    def playing(self) -> bool:
        return bool(self._queue)

    def drained(self) -> asyncio.Future[None]:
        """Done when the queue has played out (at once when nothing is queued)."""
        future = asyncio.get_running_loop().create_future()
        if self._queue:
            self._waiters.append(future)
        else:
            future.set_result(None)
        return future

    def next_frame(self) -> bytes | None:
        """The next 20 ms of the queue (called by the media tick)."""
        queue = self._queue
        while queue:
            item = queue[0]
            index = item.index
            if index < item.count:
                item.index = index + 1
                start = index * FRAME_SAMPLES
                return item.frames.payload[start : start + FRAME_SAMPLES]
            if item.loop:
                item.index = 0
                continue
            queue.popleft()
        return None

    def send_frame(self, payload: bytes, tick: int) -> bool:
        """Send one frame stamped for `tick` (timestamps follow the clock, so a pause in
        the audio is a jump in timestamp and a marker bit, as RFC 3551 asks)."""
        if self._remote is None or self.closed:
            return False
        return self._send(payload, self._ts_base + tick * FRAME_SAMPLES)

    def relay(self, payload: bytes) -> bool:
        """Send a payload now, as it came from the other leg of a bridge (already paced by
        its sender); the timestamp runs on by its length."""
        if self._remote is None or self.closed:
            return False
        return self._send(payload, self._last_ts + len(payload))

    def _send(self, payload: bytes, ts: int) -> bool:
        assert self._remote is not None
        second = self.payload_type & 0x7F | (0x80 if self._idle else 0)  # marker, PT
        packet = _pack(0x80, second, self._seq, ts & 0xFFFFFFFF, self._ssrc) + payload
        self._seq = (self._seq + 1) & 0xFFFF
        self._last_ts = ts
        self._idle = False
        with contextlib.suppress(BlockingIOError, InterruptedError, OSError):
            self._sock.sendto(packet, self._remote)
            return True
        return False

    def after_tick(self) -> None:
        """Called by the tick when this endpoint sent its last queued frame."""
        if not self._queue:
            self._idle = True
            if self._pending:
                self._drained()

    def _drained(self) -> None:
        self._pending = False
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(None)
        if self.on_drained is not None:
            self.on_drained()

    # --- capture ---------------------------------------------------------------------

    def start_capture(self) -> None:
        self._capture, self._capture_bytes = [], 0

    def stop_capture(self) -> Capture:
        """The audio captured since `start_capture`, decoded, with an energy check."""
        chunks, self._capture = self._capture or [], None
        pcm = g711.decode(self.codec, b"".join(chunks)) if chunks else np.zeros(0, np.int16)
        return Capture(pcm, len(pcm) / 8000, is_silent(pcm))

    # --- receiving -------------------------------------------------------------------

    def on_readable(self) -> None:
        """Drain the socket (called by the event loop when data is waiting)."""
        for _ in range(64):
            try:
                data, source = self._sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            self._receive(data, (str(source[0]), int(source[1])))

    def _receive(self, data: bytes, source: Address) -> None:
        if not self._accept_source(source):
            self.stats.foreign_packets += 1
            return
        # The common packet (version 2, no padding, extension or CSRC: first byte 0x80) of
        # our voice payload type is taken from the payload type byte alone; its payload is
        # only copied when someone wants it (a bridge, a recording).
        if len(data) >= rtp.HEADER.size and data[0] == 0x80:
            pt = data[1] & 0x7F
            if pt == self.payload_type and pt != self._dtmf.payload_type:
                self.stats.packets_in += 1
                if self.on_audio is not None or self._capture is not None:
                    self._voice(data[rtp.HEADER.size :])
                return
        try:
            packet = rtp.parse(data)
        except RtpError:
            self.stats.bad_packets += 1
            return
        self.stats.packets_in += 1
        key = self._dtmf.feed(packet)
        if key is not None:
            self.stats.keys += 1
            if self.on_key is not None:
                self.on_key(key)
        elif packet.payload_type == self.payload_type:
            self._voice(packet.payload)

    def _voice(self, payload: bytes) -> None:
        if self.on_audio is not None:
            self.on_audio(payload)
        if self._capture is not None and self._capture_bytes < MAX_CAPTURE_SECONDS * 8000:
            self._capture.append(payload)
            self._capture_bytes += len(payload)

    def _accept_source(self, source: Address) -> bool:
        if self._latched:
            return source == self._remote
        try:
            self._engine.check_address(source[0])
        except RemoteAddressRefused:  # never latch to an address we may not send to
            return False
        self._remote, self._latched = source, True
        return True

    def close(self) -> None:
        """Release the socket and port; waiters are released."""
        if self.closed:
            return
        self.closed = True
        self._queue.clear()
        self._engine.release(self)
        self._sock.close()
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(None)
