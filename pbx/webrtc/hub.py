"""The event loop the WebRTC peers live on, owned by the process that takes the signalling
(the web process): started on first use in a thread of its own, stopped by `close`.

A call is known by a key (the live call's token, or a test call's id); one key carries at
most one connection. Figures of finished calls are summed (`figures`), so a test or an
operator can see that audio went out and came in.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable

from pbx.phone.switchboard import Switchboard
from pbx.webrtc.call import RtcCall
from pbx.webrtc.lines import Line
from pbx.webrtc.peer import RtcPeer

SIGNAL_SECONDS = 15.0


class CallAlreadyConnected(Exception):
    """The call is already carried by another connection (a second tab, a replay)."""


class RtcHub:
    def __init__(self, addresses: tuple[str, ...] | None) -> None:
        self.addresses = addresses  # None: every interface (a server on a public address)
        self.calls: dict[str, RtcCall] = {}
        self.totals: Counter[str] = Counter()
        self.finished: list[dict[str, int]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def connect(self, key: str, line: Line, board: Switchboard, offer_sdp: str) -> str:
        """From any thread: carry the call `key` over a new peer; return the answer SDP."""
        loop = self._running_loop()
        future = asyncio.run_coroutine_threadsafe(self._connect(key, line, board, offer_sdp), loop)
        return future.result(SIGNAL_SECONDS)

    def carries(self, key: str) -> bool:
        return key in self.calls

    def close(self) -> None:
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._hang_up_all(), loop).result(SIGNAL_SECONDS)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(SIGNAL_SECONDS)
        loop.close()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="pbx-webrtc", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def _connect(self, key: str, line: Line, board: Switchboard, offer_sdp: str) -> str:
        if key in self.calls:
            raise CallAlreadyConnected(key)
        call = RtcCall(key, line, RtcPeer(self.addresses), board, self._ended)
        self.calls[key] = call
        try:
            return await call.start(offer_sdp)
        except BaseException:
            self.calls.pop(key, None)
            await call.peer.close()
            raise

    def _ended(self, call: RtcCall) -> None:
        if self.calls.get(call.key) is call:
            del self.calls[call.key]
        figures = call.figures()
        self.totals.update(figures)
        self.finished.append(figures)

    async def _hang_up_all(self) -> None:
        await asyncio.gather(*(call.hang_up() for call in list(self.calls.values())))


Boards = Callable[[str], Switchboard]
