"""What a WebRTC call is connected to: the engine, through the one driver.

A line runs on one of the switchboard's worker threads, in a unit of work per event, and
answers with a `Turn`: what the caller's end must do next (ops, with the prompt audio already
read from the store) and whether the call has ended.

- `LiveLine`: a live call with the signed-in user (`calls.live`): the switchboard calling
  them to record a message ("Spela in filen" → "Initiera samtal"), or their call to 333. The
  engine's state stays in the `live_calls` row, as for every live call, and takes are kept
  in `live_call_takes`; the only difference from the HTTP softphone is that a take is
  recorded here, from the audio stream, instead of uploaded.
- `DialLine`: "Ring upp" on the test-call page: a call to one of the company's numbers,
  from the same fictional caller as Provringa. Like Provringa it changes nothing
  (`DryRecords`): no call-log rows, no voicemail, no greeting; phones it rings do not answer.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from pbx.engine import actions as a
from pbx.engine.events import (
    AudioReceived,
    Dial,
    Dtmf,
    Event,
    Hangup,
    NoAnswer,
    Timer,
)
from pbx.engine.states import Ended, new_call
from pbx.errors import NotFound
from pbx.phone.switchboard import Switchboard
from pbx.services.calls import live
from pbx.services.calls.driver import CallDriver, CallLedger, CallRecords, Take
from pbx.services.calls.live import Heard, PhoneEvent
from pbx.services.calls.phone_steps import Step, StepsPhone
from pbx.services.calls.simulated import local_time_of
from pbx.services.calls.testcall import TEST_CALLER
from pbx.services.common.actor import Actor
from storage.blobs import BlobStore
from storage.models import LiveCall, utcnow

Op = tuple[str, Any]


@dataclass(frozen=True)
class Turn:
    ops: list[Op]
    ended: bool = False
    outcome: str = ""


class Line(Protocol):
    def begin(self, session: Session, blobs: BlobStore) -> Turn: ...

    def feed(
        self, session: Session, blobs: BlobStore, kind: str, digit: str, heard: Heard | None
    ) -> Turn: ...


def ops_of(steps: list[Step], audio: Any, take_audio: Any) -> list[Op]:
    """The phone's steps (`calls.phone_steps`) as ops, with the audio to play."""
    ops: list[Op] = []
    for step in steps:
        kind = step["do"]
        if kind == "play":
            ops.append(("play", audio(str(step["prompt"]))))
        elif kind == "play_take":
            ops.append(("play", take_audio(int(step["take"]))))
        elif kind == "missing":
            ops.append(("tone", "fallback"))
        elif kind == "tone":
            ops.append(("tone", step["tone"]))
        elif kind == "timer":
            ops.append(("timer", float(step["seconds"])))
        elif kind == "record":
            ops.append(("record", int(step["take"])))
        elif kind == "ring":
            ops.append(("ring", float(step["seconds"])))
    return ops


@dataclass
class LiveLine:
    token: str
    actor: Actor
    board: Switchboard
    answer_first: bool  # the switchboard called: connecting answers it

    def begin(self, session: Session, blobs: BlobStore) -> Turn:
        if self.answer_first:
            call = live.answer(session, blobs, self.actor, self.token)
        else:
            call = live.load(session, self.actor, self.token)
        return self._turn(session, blobs, call)

    def feed(
        self, session: Session, blobs: BlobStore, kind: str, digit: str, heard: Heard | None
    ) -> Turn:
        call = live.load(session, self.actor, self.token)
        happened = PhoneEvent(kind, digit)
        call = live.feed(session, blobs, self.actor, call, happened, heard=heard)
        return self._turn(session, blobs, call)

    def _turn(self, session: Session, blobs: BlobStore, call: LiveCall) -> Turn:
        self.board.forget(call.tenant_id)  # a greeting may have changed: play the new one

        def audio(prompt: str) -> bytes | None:
            return self.board.prompt_audio(session, blobs, call.tenant_id, prompt)

        def take_audio(take: int) -> bytes | None:
            try:
                return live.take_audio(session, call, take)
            except NotFound:
                return None

        ops = ops_of(list(call.steps), audio, take_audio)
        return Turn(ops, call.status == "ended", call.outcome or "")


class MemoryStepsPhone(StepsPhone):
    """The softphone's steps, with the call's takes kept in memory (a test call stores
    nothing)."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.finished_status: str | None = None
        self.takes: dict[int, Take] = {}

    def take(self, take: int) -> Take | None:
        return self.takes.get(take)

    def discard(self, take: int | None) -> None:
        if take is None:
            self.takes.clear()
        else:
            self.takes.pop(take, None)


class DryRecords(CallRecords):
    """The server's share of a test call: it reads (a PIN check) but writes nothing."""

    def deposit(self, action: a.DepositVoicemail, take: Take | None) -> None: ...
    def save_greeting(self, action: a.SaveGreeting, take: Take | None) -> None: ...
    def store_recording(self, action: a.StoreRecording, take: Take | None) -> None: ...
    def delete_greeting(self, action: a.DeleteGreeting) -> None: ...
    def mark_heard(self, action: a.MarkHeard) -> None: ...
    def set_presence(self, action: a.SetPresence) -> None: ...
    def refused(self, action: a.RefuseLeg) -> None: ...
    def write(self, action: a.WriteCallLog) -> None: ...

    def flush(self) -> list[int]:
        return []


_EVENTS: dict[str, type[Timer | Hangup | NoAnswer]] = {
    "timer": Timer, "hangup": Hangup, "no_answer": NoAnswer,
}  # fmt: skip


@dataclass
class DialLine:
    tenant_id: int
    dialled: str
    actor: Actor
    board: Switchboard
    call_id: str = field(default_factory=lambda: f"ringupp-{secrets.token_hex(8)}")
    _driver: CallDriver | None = None
    _phone: MemoryStepsPhone = field(default_factory=MemoryStepsPhone)
    _ledger: CallLedger | None = None
    _started: float = field(default_factory=time.monotonic)

    def begin(self, session: Session, blobs: BlobStore) -> Turn:
        snapshot = self.board.snapshot(session, blobs, self.tenant_id)
        self._ledger = CallLedger.for_snapshot(snapshot, self.call_id, utcnow())
        self._driver = CallDriver(snapshot, new_call(self.call_id), self._phone)
        dial = Dial(TEST_CALLER, self.dialled, local_time=local_time_of(utcnow()))
        return self._run(session, blobs, [dial])

    def feed(
        self, session: Session, blobs: BlobStore, kind: str, digit: str, heard: Heard | None
    ) -> Turn:
        at = time.monotonic() - self._started
        events: list[Event] = []
        if heard is not None:
            events.append(AudioReceived(heard.duration_ms / 1000, silent=heard.silent, at=at))
            take = getattr(self._driver.state.phase, "take", None) if self._driver else None
            if isinstance(take, int) and heard.master:
                self._phone.takes[take] = Take(heard.master, heard.duration_ms)
        events.append(Dtmf(digit, at=at) if kind == "dtmf" else _EVENTS[kind](at=at))
        return self._run(session, blobs, events)

    def _run(self, session: Session, blobs: BlobStore, events: list[Event]) -> Turn:
        assert self._driver is not None and self._ledger is not None
        phone = self._phone
        phone.steps = []
        records = DryRecords(session, blobs, self.actor, self._ledger)
        for event in events:
            if not isinstance(self._driver.state.phase, Ended):
                self._driver.feed(event, records)

        def audio(prompt: str) -> bytes | None:
            return self.board.prompt_audio(session, blobs, self.tenant_id, prompt)

        def take_audio(take: int) -> bytes | None:
            recorded = phone.takes.get(take)
            return recorded.master if recorded else None

        ops = ops_of(phone.steps, audio, take_audio)
        phase = self._driver.state.phase
        ended = isinstance(phase, Ended)
        return Turn(ops, ended, phase.disposition if isinstance(phase, Ended) else "")
