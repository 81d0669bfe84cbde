"""One WebRTC peer connection with a browser: the switchboard's audio out, the browser's
audio in, and a DataChannel that carries keys one way and the call's state the other.

aiortc offers no `telephone-event`, so the browser's RTCDTMFSender cannot be used: the page
sends each key as a one-character message ("0"-"9", "*", "#"), or "hangup". The switchboard
sends JSON: `{"state": "playing" | "recording" | "listening" | "ended", ...}` so the page can
say what is happening.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack

from pbx.webrtc.ice import keep_to, only_candidates
from pbx.webrtc.media import Listener, PromptTrack

log = logging.getLogger(__name__)
KEYS = frozenset("0123456789*#")


class RtcPeer:
    """The switchboard's end of one browser call (lives on the hub's event loop)."""

    def __init__(self, addresses: tuple[str, ...] | None) -> None:
        self.addresses = addresses
        # No STUN/TURN: the switchboard offers its host candidates only.
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.track = PromptTrack()
        self.listener = Listener()
        self.connected: asyncio.Event = asyncio.Event()
        self.on_key: Callable[[str], None] = lambda key: None
        self.on_gone: Callable[[], None] = lambda: None
        self._channel: RTCDataChannel | None = None
        self._pending: list[str] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.pc.on("datachannel", self._on_channel)
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    async def answer(self, offer_sdp: str) -> str:
        """Take the browser's offer (ICE gathered, no trickle); return our answer SDP."""
        if self.addresses is not None:
            offer_sdp = only_candidates(offer_sdp, self.addresses)
        await self.pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
        self.pc.addTrack(self.track)
        if self.addresses is not None:
            keep_to(self.pc, self.addresses)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return str(self.pc.localDescription.sdp)

    def send(self, message: dict[str, Any]) -> None:
        """Tell the page something (queued until its channel is open)."""
        text = json.dumps(message)
        channel = self._channel
        if channel is not None and channel.readyState == "open":
            channel.send(text)
        else:
            self._pending.append(text)

    async def close(self) -> None:
        self.track.stop()
        with contextlib.suppress(Exception):
            await self.pc.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _on_channel(self, channel: RTCDataChannel) -> None:
        self._channel = channel
        channel.on("message", self._on_message)
        channel.on("open", self._flush)
        if channel.readyState == "open":
            self._flush()

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for text in pending:
            self.send(json.loads(text))

    def _on_message(self, message: object) -> None:
        if message == "hangup":
            self.on_gone()
        elif isinstance(message, str) and message in KEYS:
            self.on_key(message)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            task = asyncio.get_running_loop().create_task(self.listener.consume(track))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _on_state(self) -> None:
        state = self.pc.connectionState
        if state == "connected":
            self.connected.set()
        elif state in ("failed", "closed"):
            self.on_gone()
