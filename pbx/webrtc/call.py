"""One WebRTC call: the browser's happenings go one at a time through its line (the engine,
on a worker thread); what comes back is performed on the peer, as the SIP front does:

- `play` / `tone`: queue the audio; a key while it plays stops it (barge-in).
- `timer` and `record` start once the queue has played out (a menu's timeout runs from the
  end of its prompt; a recording starts after the beep).
- a key, a timer or hang-up while recording first ends the take: the server's own recording
  of the browser's audio, trimmed and levelled like every recording that enters the
  switchboard, goes with the event (`calls.live.Heard`).
- `ring` (a test call reaching a phone): ringback, then nobody answers.
- when the line says the call has ended: once the goodbye has played, the page is told and
  the connection closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from pbx.media.errors import MediaError
from pbx.media.levels import trim_and_level
from pbx.media.wav import encode_wav
from pbx.phone.prompts import RATE, PromptFormatError, read_master, tone_pcm
from pbx.phone.switchboard import Switchboard
from pbx.services.calls.live import Heard
from pbx.webrtc.lines import Line, Turn
from pbx.webrtc.peer import RtcPeer

log = logging.getLogger(__name__)
CONNECT_SECONDS = 15.0
RING_SECONDS = 4.0  # a test call's rung phone: this much ringback, then no answer
GOODBYE_FLUSH_SECONDS = 0.3  # the last DataChannel message leaves before the close


class RtcCall:
    def __init__(
        self, key: str, line: Line, peer: RtcPeer, board: Switchboard,
        on_end: Callable[[RtcCall], None],
    ) -> None:  # fmt: skip
        self.key, self.line, self.peer, self.board = key, line, peer, board
        self.on_end = on_end
        self.ended = False
        self.outcome = ""
        self._events: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._generation = 0
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self, offer_sdp: str) -> str:
        answer = await self.peer.answer(offer_sdp)
        self.peer.on_key = lambda key: self.post("dtmf", key)
        self.peer.on_gone = lambda: self.post("hangup")
        self._task = asyncio.get_running_loop().create_task(self._run())
        return answer

    def post(self, kind: str, digit: str = "") -> None:
        if not self.ended:
            self._events.put_nowait((kind, digit))

    async def hang_up(self) -> None:
        """The server stops (or the app closes): the call ends like a hang-up."""
        self.post("hangup")
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._task), 5.0)
        await self._close()

    async def _run(self) -> None:
        try:
            await asyncio.wait_for(self.peer.connected.wait(), CONNECT_SECONDS)
            self._perform(await self.board.run(self.line.begin))
            while not self.ended:
                kind, digit = await self._events.get()
                if self.ended or not kind:
                    break
                await self._handle(kind, digit)
        except TimeoutError:
            log.info("webrtc call %s: never connected", self.key[:8])
        except Exception:  # one broken call must not take the others down
            log.exception("webrtc call %s failed", self.key[:8])
        finally:
            await self._close()

    async def _handle(self, kind: str, digit: str) -> None:
        self._generation += 1
        self._cancel_timer()
        heard = None
        if self.peer.listener.capturing and kind in ("dtmf", "hangup", "timer"):
            heard = self._take()
        if kind == "hangup":
            self.peer.track.stop()  # nobody listens any more
        elif kind == "dtmf" and self.peer.track.playing:
            self.peer.track.stop()  # barge-in
        turn = await self.board.run(
            lambda session, blobs: self.line.feed(session, blobs, kind, digit, heard)
        )
        self._perform(turn)
        if kind == "hangup":
            self.ended = True

    def _take(self) -> Heard:
        capture = self.peer.listener.stop_capture()
        ms = int(capture.seconds * 1000)
        if capture.silent:
            return Heard(b"", ms, True)
        try:
            levelled = trim_and_level(capture.pcm.astype(np.float64) / 32768.0, RATE)
        except MediaError:  # nothing above the silence floor
            return Heard(b"", ms, True)
        samples = levelled.samples
        return Heard(encode_wav(samples), len(samples) * 1000 // RATE, False)

    # --- what the browser hears ------------------------------------------------------

    def _perform(self, turn: Turn) -> None:
        for kind, arg in turn.ops:
            getattr(self, f"_op_{kind}")(arg)
        if turn.ended:
            self.outcome = turn.outcome
            self._after_playing(self._finish)

    def _op_play(self, audio: bytes | None) -> None:
        try:
            pcm = read_master(audio) if audio else tone_pcm("fallback")
        except PromptFormatError:
            log.warning("webrtc call %s: unplayable prompt", self.key[:8])
            pcm = tone_pcm("fallback")
        self._playing()
        self.peer.track.play(pcm)

    def _op_tone(self, tone: str) -> None:
        self._playing()
        self.peer.track.play(tone_pcm("beep" if tone == "beep" else "fallback"))

    def _op_timer(self, seconds: float) -> None:
        def arm() -> None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(seconds, lambda: self.post("timer"))
            self.peer.send({"state": "waiting"})

        self._after_playing(arm)

    def _op_record(self, take: int) -> None:
        def start() -> None:
            self.peer.listener.start_capture()
            self.peer.send({"state": "recording", "take": take})

        self._after_playing(start)

    def _op_ring(self, seconds: float) -> None:
        self.peer.send({"state": "ringing"})
        self.peer.track.play(tone_pcm("ringback")[: int(min(seconds, RING_SECONDS) * RATE)])
        self._after_playing(lambda: self.post("no_answer"))

    def _playing(self) -> None:
        if not self.peer.listener.capturing:
            self.peer.send({"state": "playing"})

    def _after_playing(self, then: Callable[[], Any]) -> None:
        """Run `then` once the queued audio has played out, unless another event came."""
        generation = self._generation

        def go(_: object) -> None:
            if generation == self._generation and not self.ended:
                then()

        self.peer.track.drained().add_done_callback(go)

    def _finish(self) -> None:
        self.ended = True
        self._events.put_nowait(("", ""))  # wakes the run loop, which closes the call

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _close(self) -> None:
        if self._closed:
            return
        self._closed = self.ended = True
        self._cancel_timer()
        self.peer.send({"state": "ended", "outcome": self.outcome})
        await asyncio.sleep(GOODBYE_FLUSH_SECONDS)
        await self.peer.close()
        self.on_end(self)

    def figures(self) -> dict[str, int]:
        track, listener = self.peer.track, self.peer.listener
        return {
            "frames_sent": track.frames_sent,
            "sound_frames_sent": track.sound_frames_sent,
            "frames_received": listener.frames_received,
        }
