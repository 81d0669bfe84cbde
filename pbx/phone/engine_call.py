"""A call over one RTP endpoint, driven by the engine: a caller's INVITE that we answer
(`pbx.phone.call.SipCall`) or our INVITE to record by phone (`pbx.phone.callback`).

The call's events (keys by RFC 4733
or SIP INFO, hang-up, CANCEL, timers, what a rung phone answered) go one at a time through
the one driver (`pbx.services.calls.driver`) on a worker thread, where the server's share is
carried out in a unit of work; the phone's share comes back as a list of operations that the
event loop performs on the call's RTP endpoint:

- `PlayMessage` / `PlayTone`: queue the audio (the caller is answered, 200 OK, on the first
  thing to hear); missing audio plays the fallback tone.
- `StartTimer` and `RecordInto` start once the queue has played out, so an IVR timeout runs
  from the end of its prompt and a recording starts after the beep.
- A key while something plays stops it (barge-in). A key, hang-up or timer while recording
  first tells the engine what was recorded (`AudioReceived`, with an energy check).
- `RingUser` / `DialExternal`: a leg (`pbx.phone.legs`); ringback meanwhile.
- `HangUp`: BYE once the queue has played out (the goodbye is heard), or a final response
  when the call was never answered (404 for an unknown number, else 480).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

from sqlalchemy.orm import Session

from pbx.engine import actions as a
from pbx.engine import step
from pbx.engine.events import (
    AudioReceived,
    Dtmf,
    Event,
    Hangup,
    Timer,
)
from pbx.media.wav import encode_wav
from pbx.phone.endpoint import MediaEndpoint
from pbx.services.calls.driver import (
    CallDriver,
    CallLedger,
    CallRecords,
    QuietPhone,
    Take,
    carry_out,
)
from pbx.services.common.actor import Actor
from storage.blobs import BlobStore

if TYPE_CHECKING:
    from pbx.phone.worker import PhoneWorker

log = logging.getLogger(__name__)
Op = tuple[str, Any]
#: Actions the phone carries out without the server: an event whose actions are all of
#: these (and whose prompts are cached) is stepped on the event loop, with no thread hop
#: and no unit of work (no wait for SQLite's write lock).
_PHONE_ONLY = (
    a.PlayMessage, a.PlayTone, a.StartTimer, a.RingUser, a.DialExternal, a.RecordInto,
    a.PlayRecording, a.HangUp, a.DiscardRecording, a.ForwardCall, a.EnterVoicemail,
    a.RingGroup, a.HoursChecked, a.DoNotDisturb,
)  # fmt: skip
_NO_RECORDS = cast(CallRecords, None)  # the handlers of _PHONE_ONLY never touch the records
_NOT_ANSWERED = {"unknown_number": (404, "Not Found"), "busy": (486, "Busy Here")}


@dataclass(frozen=True)
class Origin:
    """Who placed the call, as the front established it."""

    caller: str  # E.164 from the trunk, or the extension of a registered phone
    dialled: str
    tenant_id: int
    actor: Actor  # whose changes the call makes (the phone's user, or the trunk)
    verified: bool  # a digest-authenticated phone: 333 needs no PIN


class SipPhone(QuietPhone):
    """The driver's phone for a SIP call. Called on a worker thread: it only notes what the
    event loop must do (resolving prompt audio there, where the database may be read)."""

    def __init__(self, call: EngineCall) -> None:
        self.call = call
        self.ops: list[Op] = []
        self.session: Session | None = None
        self.blobs: BlobStore | None = None
        #: On the event loop (no session): the audio of each slot, looked up beforehand.
        self.known: dict[str, bytes | None] = {}

    def play(self, action: a.PlayMessage) -> None:
        audio = None
        if action.audio_ok and action.slot_id in self.known:
            audio = self.known[action.slot_id]
        elif action.audio_ok and self.session is not None and self.blobs is not None:
            board = self.call.worker.switchboard
            audio = board.prompt_audio(
                self.session, self.blobs, self.call.origin.tenant_id, action.slot_id
            )
        self.ops.append(("play", audio) if audio else ("tone", "fallback"))

    def tone(self, action: a.PlayTone) -> None:
        self.ops.append(("tone", action.tone))

    def start_timer(self, action: a.StartTimer) -> None:
        self.ops.append(("timer", action.seconds))

    def ring(self, action: a.RingUser | a.DialExternal) -> None:
        self.ops.append(("ring", action))

    def record(self, action: a.RecordInto) -> None:
        self.ops.append(("record", action.take))

    def play_take(self, action: a.PlayRecording) -> None:
        take = self.call.takes.get(action.take)
        self.ops.append(("play", take.master) if take else ("tone", "fallback"))

    def hang_up(self, action: a.HangUp) -> None:
        self.ops.append(("hangup", action.reason))

    def take(self, take: int) -> Take | None:
        return self.call.takes.get(take)

    def discard(self, take: int | None) -> None:
        self.ops.append(("discard", take))


class EngineCall:
    """A call the engine drives over one RTP endpoint: its events go one at a time through
    the driver, its operations are performed on the endpoint. What is SIP about it (which
    side of the dialog we are, how it is answered and ended) is the subclasses': `SipCall`
    (a caller's INVITE we answer) and `pbx.phone.callback.CallbackCall` (an INVITE we place
    to record by phone)."""

    adopts_leg: ClassVar[bool] = False  # a leg's answer becomes the call itself (not bridged)
    steps_on_loop: ClassVar[bool] = True  # events that need no server skip the thread

    def __init__(
        self, worker: PhoneWorker, origin: Origin, endpoint: MediaEndpoint, call_id: str
    ) -> None:
        self.worker, self.origin, self.endpoint = worker, origin, endpoint
        self._call_id = call_id
        self.takes: dict[int, Take] = {}
        self.ended = self.answered = False
        self.leg: Any = None  # the leg being rung or connected (pbx.phone.legs.Leg)
        self._events: asyncio.Queue[Event | None] = asyncio.Queue()
        self._driver: CallDriver | None = None
        self._ledger: CallLedger | None = None
        self._generation = 0
        self._timer: asyncio.TimerHandle | None = None
        self._recording: int | None = None
        self._started = 0.0
        self._task: asyncio.Task[None] | None = None
        self._gone = False  # the far end hung up or cancelled: nothing more is sent to it
        self._winding_down = False  # the worker is stopping: end once the engine has heard

    @property
    def call_id(self) -> str:
        return self._call_id

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._started = loop.time()
        self.endpoint.on_key = lambda key: self.post(Dtmf(key, at=self.clock()))
        self._task = loop.create_task(self._run(), name=f"call-{self.call_id[:12]}")

    def clock(self) -> float:
        return max(0.0, asyncio.get_running_loop().time() - self._started)

    def post(self, event: Event) -> None:
        """An event from the outside world (key, hang-up, a leg's answer...)."""
        if not self.ended:
            self._events.put_nowait(event)

    # --- the call's one task: events in order through the driver ---------------------

    async def _run(self) -> None:
        try:
            ops = self._begin_here()
            if ops is None:
                ops = await self.worker.switchboard.run(self._begin)
            self._perform(ops, first=True)
            while not self.ended:
                event = await self._events.get()
                if event is None:
                    break
                await self._handle(event)
        except Exception:  # one broken call must not take the worker down
            log.exception("call %s failed", self.call_id)
            self.end(500, "Server Internal Error")

    def _begin(self, session: Session, blobs: BlobStore) -> list[Op]:
        """The call's first step (in a unit of work): set up the driver, return its ops."""
        raise NotImplementedError

    def _begin_here(self) -> list[Op] | None:
        """The first step on the event loop, when it needs no database (None: it does)."""
        return None

    def _feed_here(self, events: list[Event]) -> list[Op] | None:
        """Step `events` on the event loop when every action they lead to is the phone's
        and every prompt is cached; None (and nothing changed) when the server is needed:
        then `_feed` steps them on a thread in a unit of work."""
        if not self.steps_on_loop or self._driver is None:
            return None
        driver, board, tenant = self._driver, self.worker.switchboard, self.origin.tenant_id
        phone = driver.phone
        assert isinstance(phone, SipPhone)
        state, planned, known = driver.state, list[a.Action](), dict[str, bytes | None]()
        for event in events:
            state, actions = step(driver.snapshot, state, event)
            for action in actions:
                if not isinstance(action, _PHONE_ONLY):
                    return None
                if isinstance(action, a.PlayMessage) and action.audio_ok:
                    found, audio = board.cached_prompt(tenant, action.slot_id)
                    if not found:
                        return None
                    known[action.slot_id] = audio
            planned += actions
        phone.ops, phone.known = [], known
        try:
            driver.state = state
            carry_out(planned, phone, _NO_RECORDS)
        finally:
            phone.known = {}
        return phone.ops

    def _feed(self, session: Session, blobs: BlobStore, events: list[Event]) -> list[Op]:
        assert self._driver is not None and self._ledger is not None
        phone = self._driver.phone
        assert isinstance(phone, SipPhone)
        phone.ops, phone.session, phone.blobs = [], session, blobs
        records = CallRecords(session, blobs, self.origin.actor, self._ledger)
        for event in events:
            self._driver.feed(event, records)
        records.flush()
        if self._ledger.version_ids:
            self.worker.switchboard.forget(self.origin.tenant_id)  # a greeting changed
        phone.session = phone.blobs = None
        return phone.ops

    async def _handle(self, event: Event) -> None:
        self._generation += 1
        self._cancel_timer()
        events: list[Event] = []
        if self._recording is not None and isinstance(event, Dtmf | Hangup | Timer):
            events.append(self._stop_recording(event.at))
        if isinstance(event, Dtmf) and self.endpoint.playing:
            self.endpoint.stop()  # barge-in
        events.append(event)
        ops = self._feed_here(events)
        if ops is None:
            ops = await self.worker.switchboard.run(
                lambda session, blobs: self._feed(session, blobs, events)
            )
        self._perform(ops)
        if self._winding_down:
            self.end(503, "Service Unavailable")

    def _stop_recording(self, at: float) -> AudioReceived:
        take, self._recording = self._recording, None
        capture = self.endpoint.stop_capture()
        assert take is not None
        if capture.seconds > 0:
            self.takes[take] = Take(encode_wav(capture.pcm), int(capture.seconds * 1000))
        return AudioReceived(capture.seconds, silent=capture.silent, at=at)

    # --- what the caller's side does (event loop) ------------------------------------

    def _perform(self, ops: list[Op], first: bool = False) -> None:
        if first and not any(kind in ("play", "tone", "record", "ring") for kind, _ in ops):
            reason = next((str(arg) for kind, arg in ops if kind == "hangup"), "")
            self.end(*_NOT_ANSWERED.get(reason, (480, "Temporarily Unavailable")))
            return
        for kind, arg in ops:
            if self.ended:
                return
            getattr(self, f"_op_{kind}")(arg)

    def _op_play(self, audio: bytes) -> None:
        self._answer()
        try:
            self.endpoint.play_master(audio)
        except Exception:  # a master we cannot read: the caller hears the fallback
            log.warning("call %s: unplayable prompt", self.call_id)
            self.endpoint.play_tone("fallback")

    def _op_tone(self, tone: str) -> None:
        self._answer()
        self.endpoint.play_tone("beep" if tone == "beep" else "fallback")

    def _op_timer(self, seconds: float) -> None:
        self._after_playing(lambda: self._arm_timer(seconds))

    def _op_record(self, take: int) -> None:
        self._answer()

        def start() -> None:
            self._recording = take
            self.endpoint.start_capture()

        self._after_playing(start)

    def _op_discard(self, take: int | None) -> None:
        if take is None:
            self.takes.clear()
        else:
            self.takes.pop(take, None)

    def _op_ring(self, action: a.RingUser | a.DialExternal) -> None:
        self.worker.legs.ring(self, action)

    def _op_hangup(self, reason: str) -> None:
        self._after_playing(lambda: self.end(*_NOT_ANSWERED.get(reason, (480, "Unavailable"))))

    def _after_playing(self, then: Callable[[], None]) -> None:
        """Run `then` once the queued audio has played out, unless another event came."""
        generation = self._generation
        done = self.endpoint.drained()

        def go(_: object) -> None:
            if generation == self._generation and not self.ended:
                then()

        done.add_done_callback(go)

    def _arm_timer(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(seconds, lambda: self.post(Timer(at=self.clock())))

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _far_end_gone(self) -> None:
        """The far end is gone: the engine hears a hang-up; we send nothing more."""
        if self.ended:
            return
        self._gone = True
        self.endpoint.stop()  # nobody listens any more: what was queued need not play out
        self.post(Hangup(at=self.clock()))

    def wind_down(self) -> None:
        """The worker is stopping: the engine hears a hang-up first, so what is being
        recorded is kept and the call log gets its row; then the caller gets our BYE (or a
        503 when never answered). Unlike `_far_end_gone`, the far end is still there."""
        if self.ended:
            return
        self._winding_down = True
        self.endpoint.stop()
        self.post(Hangup(at=self.clock()))

    def end(self, status: int = 480, reason: str = "Temporarily Unavailable") -> None:
        """Finish the call on our side (BYE, or a final response when never answered)."""
        if self.ended:
            return
        self.ended = True
        self._cancel_timer()
        self._close_dialog(status, reason)
        if self.leg is not None:
            self.leg.stop()
        self.endpoint.close()
        self._events.put_nowait(None)
        self._forget()

    # --- what the SIP side does (the subclasses) -------------------------------------

    def _answer(self) -> None:
        """Something is to be heard: answer the call if it is not yet."""

    def _close_dialog(self, status: int, reason: str) -> None:
        """The call ends on our side: hang up or refuse (nothing when `_gone`)."""

    def _forget(self) -> None:
        """The call is over: whoever keeps it lets go."""

    def ringing(self) -> None:
        """A leg rings before anything is heard (the caller may be told: 180)."""

    def answer_now(self) -> None:
        self._answer()

    def adopt(self, endpoint: MediaEndpoint) -> None:
        """A leg answered and the call *is* that leg (`adopts_leg`): use its media."""
        raise NotImplementedError
