"""The media side of one worker: RTP endpoints from a port range and ONE media tick.

A task per call would mean hundreds of timers waking independently and drifting; instead a
single task wakes every 20 ms and sends the due frame of every playing endpoint. It keeps an
absolute schedule (tick k is due at start + k·20 ms): when the process was held up, the
next wake-ups do not sleep and send each missed frame at once (catch-up) — unless it fell
more than `max_catch_up` ticks behind, when the schedule jumps forward (the far end's jitter
buffer could not use a burst that old anyway). Every frame sent more than 20 ms or 40 ms
after its due time is counted: those counters are what the benchmark reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass

from pbx.phone import errors
from pbx.phone.endpoint import MediaEndpoint
from pbx.phone.errors import NoFreePort
from pbx.phone.prompts import PromptCache

FRAME_SECONDS = 0.020


@dataclass(frozen=True, slots=True)
class MediaConfig:
    host: str = "127.0.0.1"
    port_min: int = 20000
    port_max: int = 29999
    max_catch_up: int = 10  # ticks (200 ms)
    prompt_cache_entries: int = 256
    allow_remote: bool = False


@dataclass
class MediaStats:
    ticks: int = 0
    frames_sent: int = 0
    frames_late_20ms: int = 0
    frames_late_40ms: int = 0
    max_late_ms: float = 0.0
    max_tick_ms: float = 0.0  # the tick's own sending work: lateness beyond it is waiting for a CPU
    ticks_skipped: int = 0
    send_failures: int = 0


class MediaEngine:
    """`await start()`; `open_endpoint(call_id)` per call; `await close()`."""

    def __init__(self, config: MediaConfig | None = None) -> None:
        self.config = config or MediaConfig()
        if self.config.port_min > self.config.port_max:
            raise ValueError("empty RTP port range")
        self.stats = MediaStats()
        self.prompts = PromptCache(self.config.prompt_cache_entries)
        self._endpoints: dict[int, MediaEndpoint] = {}
        self._playing: set[MediaEndpoint] = set()
        self._next_port = self.config.port_min
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="media-tick")

    async def close(self) -> None:
        for endpoint in list(self._endpoints.values()):
            endpoint.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def endpoints(self) -> int:
        return len(self._endpoints)

    # --- endpoints -------------------------------------------------------------------

    def open_endpoint(self, call_id: str = "") -> MediaEndpoint:
        """A new endpoint on the next free even port of the range (RTP on even ports,
        RTCP would take the odd one above; we send no RTCP)."""
        if self._loop is None:
            raise RuntimeError("MediaEngine.start() first")
        sock = self._bind()
        endpoint = MediaEndpoint(self, sock, call_id)
        self._endpoints[endpoint.local_port] = endpoint
        self._loop.add_reader(sock.fileno(), endpoint.on_readable)
        return endpoint

    def _bind(self) -> socket.socket:
        lo, hi = self.config.port_min + self.config.port_min % 2, self.config.port_max
        span = (hi - lo) // 2 + 1
        for _ in range(span):
            port = self._next_port + self._next_port % 2
            self._next_port = lo if port + 2 > hi else port + 2
            if port in self._endpoints or port > hi:
                continue
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                sock.bind((self.config.host, port))
            except OSError:
                sock.close()
                continue
            sock.setblocking(False)
            return sock
        raise NoFreePort(f"no free RTP port in {lo}-{hi}")

    def release(self, endpoint: MediaEndpoint) -> None:
        """Called by `MediaEndpoint.close`: forget it and stop watching its socket."""
        self._playing.discard(endpoint)
        if self._endpoints.get(endpoint.local_port) is endpoint:
            del self._endpoints[endpoint.local_port]
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(endpoint.fileno)

    def wake(self, endpoint: MediaEndpoint) -> None:
        """An endpoint has something to play: the tick sends it from the next frame on."""
        if not endpoint.closed:
            self._playing.add(endpoint)

    def check_address(self, host: str) -> None:
        errors.check_address(host, allow_remote=self.config.allow_remote)

    # --- the tick --------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        tick = 0
        while True:
            due = start + tick * FRAME_SECONDS
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = loop.time()
            behind = int((now - due) / FRAME_SECONDS)
            if behind > self.config.max_catch_up:  # too old to be worth sending: jump
                self.stats.ticks_skipped += behind
                tick += behind
                due += behind * FRAME_SECONDS
            began = loop.time()
            sent = self._tick(tick)
            done = loop.time()
            self._count(sent, done - due)  # when the tick's last frame left
            self.stats.max_tick_ms = max(self.stats.max_tick_ms, 1000 * (done - began))
            tick += 1

    def _tick(self, tick: int) -> int:
        """Send frame `tick` of every playing endpoint; returns how many were sent."""
        self.stats.ticks += 1
        sent = 0
        finished: list[MediaEndpoint] = []
        failures = 0
        for endpoint in self._playing:
            payload = endpoint.next_frame()
            if payload is None:
                finished.append(endpoint)
                continue
            if endpoint.send_frame(payload, tick):
                sent += 1
            else:
                failures += 1
            if not endpoint.playing:
                finished.append(endpoint)
        self.stats.send_failures += failures
        for endpoint in finished:
            self._playing.discard(endpoint)
            endpoint.after_tick()
        return sent

    def _count(self, sent: int, late: float) -> None:
        self.stats.frames_sent += sent
        if sent and late > 0.020:
            self.stats.frames_late_20ms += sent
            if late > 0.040:
                self.stats.frames_late_40ms += sent
        if sent:
            self.stats.max_late_ms = max(self.stats.max_late_ms, late * 1000)
