"""The audio of a WebRTC call, at the switchboard's end.

- `PromptTrack`: what the caller hears. Prompt masters (8 kHz mono PCM) and tones are queued
  and handed to aiortc 20 ms at a time, paced by the clock; aiortc's Opus encoder resamples
  to 48 kHz. Silence when nothing is queued. `drained()` tells when the queue has played out
  (timers and recordings start then), `stop()` is barge-in. Frames are counted (all, and
  those carrying sound) so a test or the operator can see that audio went out.
- `Listener`: what the caller says. Every frame of the browser's track is read (so nothing
  piles up); while capturing, frames are resampled to 8 kHz mono and kept. A capture ends
  with its PCM, its length and an energy check (the SIP front's: 200 ms above -45 dBFS).
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, AudioResampler

from pbx.phone.prompts import FRAME_SAMPLES, RATE, SILENCE_RMS, Pcm, frame_rms, is_silent

PTIME = FRAME_SAMPLES / RATE


class PromptTrack(MediaStreamTrack):
    """The outgoing audio track: queued PCM at 8 kHz, silence in between."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._queue: deque[Pcm] = deque()
        self._offset = 0
        self._waiters: list[asyncio.Future[None]] = []
        self._start: float | None = None
        self._timestamp = 0
        self.frames_sent = 0
        self.sound_frames_sent = 0

    @property
    def playing(self) -> bool:
        return bool(self._queue)

    def play(self, pcm: Pcm) -> None:
        if len(pcm):
            self._queue.append(pcm)

    def stop(self) -> None:
        """Barge-in: drop what is queued; whoever waited for the end hears it now."""
        self._queue.clear()
        self._offset = 0
        self._wake()

    def drained(self) -> asyncio.Future[None]:
        """Done when everything queued so far has been sent (at once when nothing is)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._queue:
            self._waiters.append(done)
        else:
            done.set_result(None)
        return done

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await self._pace()
        pcm = self._next_frame()
        self.frames_sent += 1
        if frame_rms(pcm)[0] > SILENCE_RMS:
            self.sound_frames_sent += 1
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._timestamp
        frame.time_base = fractions.Fraction(1, RATE)
        return frame

    async def _pace(self) -> None:
        """One frame per 20 ms on an absolute schedule (no drift from late wake-ups)."""
        if self._start is None:
            self._start = time.monotonic()
            return
        self._timestamp += FRAME_SAMPLES
        wait = self._start + self._timestamp / RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def _next_frame(self) -> Pcm:
        out = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        filled = 0
        while filled < FRAME_SAMPLES and self._queue:
            head = self._queue[0]
            part = head[self._offset : self._offset + FRAME_SAMPLES - filled]
            out[filled : filled + len(part)] = part
            filled += len(part)
            self._offset += len(part)
            if self._offset >= len(head):
                self._queue.popleft()
                self._offset = 0
        if not self._queue:
            self._wake()
        return out

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


@dataclass(frozen=True)
class Capture:
    """What was recorded: 8 kHz mono PCM, its length, and whether it holds any speech."""

    pcm: Pcm
    seconds: float
    silent: bool


class Listener:
    """Reads the browser's track to the end; keeps what arrives while capturing."""

    def __init__(self) -> None:
        self.frames_received = 0
        self._capturing = False
        self._chunks: list[Pcm] = []
        self._resampler: AudioResampler | None = None

    async def consume(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.frames_received += 1
            if self._capturing and self._resampler is not None and isinstance(frame, AudioFrame):
                for out in self._resampler.resample(frame):
                    self._chunks.append(out.to_ndarray().reshape(-1).astype(np.int16))

    @property
    def capturing(self) -> bool:
        return self._capturing

    def start_capture(self) -> None:
        self._chunks = []
        self._resampler = AudioResampler(format="s16", layout="mono", rate=RATE)
        self._capturing = True

    def stop_capture(self) -> Capture:
        self._capturing = False
        chunks, self._chunks = self._chunks, []
        pcm = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        return Capture(pcm, len(pcm) / RATE, is_silent(pcm))
