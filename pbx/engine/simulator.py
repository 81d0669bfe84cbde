"""Drive one call through the engine from a script and return what happened, step by step.

The simulator plays the outside world: the caller's events come from the script (DTMF,
audio, waiting for a timeout, hanging up); phones answer unless the script names them busy,
no-answer or unavailable; a PIN is checked by the `verify_pin` function given (none: every
PIN is wrong). Time is virtual: ringing without answer takes the ring time, a timeout its
seconds, audio its length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Literal

from pbx.engine import actions as a
from pbx.engine.callback import start_callback
from pbx.engine.dialplan import DialplanSnapshot
from pbx.engine.errors import UnknownNumber
from pbx.engine.events import (
    Answer,
    AudioReceived,
    Busy,
    Dial,
    Dtmf,
    Event,
    Hangup,
    NoAnswer,
    PinChecked,
    Timer,
    Unavailable,
    parse_dtmf,
)
from pbx.engine.presence import DND_CODE
from pbx.engine.states import (
    CallbackReview,
    CallState,
    Connected,
    Ended,
    InMenu,
    ServiceMailbox,
    ServiceMenu,
    ServicePin,
    new_call,
)
from pbx.engine.step import step
from pbx.policies.destinations import parse_e164

CallerEvent = Dtmf | AudioReceived | Timer | Hangup
PinVerifier = Callable[[str, str], bool]  # (box_id, pin) -> ok

DIGIT_GAP = 1.0  # seconds between key presses
ANSWER_DELAY = 3.0  # seconds a phone rings before it is answered
_QUESTIONS = frozenset({a.RingUser, a.RingGroup, a.DialExternal, a.VerifyPin})
# Phases that wait for keys: with the script used up, the caller stays silent (timeout);
# anywhere else the caller hangs up.
_WAITING_FOR_KEYS = (InMenu, ServiceMenu, ServiceMailbox, ServicePin, CallbackReview)


@dataclass(frozen=True, slots=True)
class CallScript:
    caller: str
    dialled: str
    events: tuple[CallerEvent, ...] = ()
    busy: frozenset[str] = frozenset()  # extensions or E.164 numbers
    no_answer: frozenset[str] = frozenset()
    unavailable: frozenset[str] = frozenset()
    talk_seconds: float = 60.0  # how long an answered call lasts before hanging up
    local_time: datetime | None = None  # the call's local start time (opening hours)


@dataclass(frozen=True, slots=True)
class TraceStep:
    kind: str  # prompt tone dtmf ring answer busy no_answer unavailable forward refused
    #            voicemail record deposit greeting_saved greeting_deleted playback stored
    #            discarded messages_heard pin timeout audio hangup callback
    at: float
    slot_id: str | None = None
    slot_name: str | None = None
    audio: Literal["ok", "missing"] | None = None
    to: str | None = None
    reason: str | None = None
    digit: str | None = None
    detail: str | None = None  # hours: the holiday, closed day or interval that decided

    def as_dict(self) -> dict[str, object]:
        return {key: value for key, value in asdict(self).items() if value is not None}


# One engine step as the simulator saw it: the event's time, the event (None for the Dial
# that starts the call, PIN_DIGIT for a masked PIN key) and the actions it produced.
Batch = tuple[float, "Event | str | None", list[a.Action]]
PIN_DIGIT = "pin digit"


@dataclass(frozen=True)
class Trace:
    """The outcome of one simulated call. `steps` (what the caller heard, where the call
    went) and `actions` are rendered from the recorded batches on first use."""

    call_id: str
    disposition: str
    call_log: tuple[a.CallLogLeg, ...]
    final_state: CallState
    batches: tuple[Batch, ...] = field(repr=False)

    @cached_property
    def steps(self) -> tuple[TraceStep, ...]:
        return tuple(_render(self.batches))

    @cached_property
    def actions(self) -> tuple[a.Action, ...]:
        return tuple(action for _, _, actions in self.batches for action in actions)

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of `pbx call --json` (call-log rows in full)."""
        return {
            "call_id": self.call_id,
            "steps": [s.as_dict() for s in self.steps],
            "disposition": self.disposition,
            "call_log": [leg._asdict() for leg in self.call_log],
        }


def script_events(dtmf: str = "", say: float | None = None) -> tuple[CallerEvent, ...]:
    """Caller events for the command line: the keys, then speaking `say` seconds."""
    events: list[CallerEvent] = [Dtmf(d) for d in parse_dtmf(dtmf)]
    if say is not None:
        events.append(AudioReceived(say))
    return tuple(events)


def check_script(snapshot: DialplanSnapshot, script: CallScript) -> CallScript:
    """Reject bad input before a call: a malformed number (InvalidNumber) or one that is not
    the tenant's (UnknownNumber). Returns the script with its numbers in E.164."""
    caller, dialled = script.caller, script.dialled
    if caller not in snapshot.user_index:
        caller = parse_e164(caller)
    if dialled.startswith("+"):
        dialled = parse_e164(dialled)
    known = dialled == snapshot.service.number or dialled in snapshot.number_index
    outbound = caller in snapshot.user_index and (dialled.startswith("+") or dialled == DND_CODE)
    if not (known or outbound or dialled in snapshot.user_index):
        raise UnknownNumber(f"{dialled} is not a number of tenant {snapshot.tenant_id}.")
    if (caller, dialled) == (script.caller, script.dialled):
        return script
    return replace(script, caller=caller, dialled=dialled)


def simulate(
    snapshot: DialplanSnapshot,
    script: CallScript,
    call_id: str = "sim-1",
    verify_pin: PinVerifier | None = None,
    *,
    checked: bool = False,
) -> Trace:
    """Run one inbound (or internal/outbound/service) call. Raises only for bad input.
    `checked`: the script's numbers are known good (generated from this snapshot), so
    `check_script` is skipped; a wrong number then just ends as `unknown_number`."""
    if not checked:
        script = check_script(snapshot, script)
    dial = Dial(script.caller, script.dialled, local_time=script.local_time)
    state, actions = step(snapshot, new_call(call_id), dial)
    return _Driver(snapshot, script, verify_pin).run(state, actions)


def simulate_callback(
    snapshot: DialplanSnapshot,
    to: str,
    slot_id: str,
    events: Iterable[CallerEvent] = (),
    outcome: Literal["answer", "busy", "no_answer", "unavailable"] = "answer",
    call_id: str = "callback-1",
) -> Trace:
    """Run a record-by-phone session; `outcome` is what the called phone does."""
    number = parse_e164(to)
    named = frozenset({number})
    script = CallScript(
        caller="",
        dialled=number,
        events=tuple(events),
        busy=named if outcome == "busy" else frozenset(),
        no_answer=named if outcome == "no_answer" else frozenset(),
        unavailable=named if outcome == "unavailable" else frozenset(),
    )
    state, actions = start_callback(snapshot, call_id, number, slot_id)
    return _Driver(snapshot, script, None).run(state, actions)


class _Driver:
    """The outside world of one simulated call (holds the virtual clock and the record)."""

    def __init__(
        self, snapshot: DialplanSnapshot, script: CallScript, verify_pin: PinVerifier | None
    ) -> None:
        self.snapshot = snapshot
        self.script = script
        self.verify_pin = verify_pin
        self.pending = list(reversed(script.events))
        self.clock = 0.0
        self.batches: list[Batch] = []

    def run(self, state: CallState, actions: list[a.Action]) -> Trace:
        snapshot, batches = self.snapshot, self.batches
        batches.append((0.0, None, actions))
        budget = snapshot.limits.max_events + 2
        while type(state.phase) is not Ended and budget > 0:
            budget -= 1
            last = actions[-1] if actions else None
            if type(last) in _QUESTIONS:
                event = self._reply(last)  # type: ignore[arg-type]
            else:
                event = self._caller_event(state)
            if event.at > self.clock:
                self.clock = event.at
            shown: Event | str = event
            if type(state.phase) is ServicePin and type(event) is Dtmf and event.digit != "#":
                shown = PIN_DIGIT  # keys typed at the PIN prompt never show in a trace
            state, actions = step(snapshot, state, event)
            batches.append((self.clock, shown, actions))
        phase = state.phase
        disposition = phase.disposition if isinstance(phase, Ended) else "unfinished"
        log = tuple(
            action.leg
            for _, _, acts in batches
            for action in acts
            if type(action) is a.WriteCallLog
        )
        return Trace(state.call_id, disposition, log, state, tuple(batches))

    def _reply(self, question: a.RingUser | a.RingGroup | a.DialExternal | a.VerifyPin) -> Event:
        """The world's answer when the engine asked a question (a ring or a PIN check is
        always the last action of its batch)."""
        if isinstance(question, a.VerifyPin):
            pin_ok = self.verify_pin is not None and self.verify_pin(question.box_id, question.pin)
            return PinChecked(pin_ok, at=self.clock)
        if isinstance(question, a.RingGroup):
            return self._ring_group(question)
        return self._ring(question)

    def _ring_group(self, group: a.RingGroup) -> Event:
        """Every phone rings at once: the first that answers takes the call; else busy when
        all are busy, no answer when any rang out, unavailable otherwise."""
        script = self.script
        refusing = script.busy | script.no_answer | script.unavailable
        for ring in group.members:
            if ring.ext not in refusing:
                return Answer(at=self.clock + ANSWER_DELAY, by=ring.ext)
        exts = {ring.ext for ring in group.members}
        if exts <= script.busy:
            return Busy(at=self.clock)
        if exts & script.no_answer:
            return NoAnswer(at=self.clock + group.timeout)
        return Unavailable(at=self.clock)

    def _timer(self) -> float:
        """Seconds of the last timer the engine started."""
        for _, _, actions in reversed(self.batches):
            for action in reversed(actions):
                if isinstance(action, a.StartTimer):
                    return action.seconds
        return 0.0

    def _ring(self, action: a.RingUser | a.DialExternal) -> Event:
        party = action.ext if isinstance(action, a.RingUser) else action.e164
        if party in self.script.busy:
            return Busy(at=self.clock)
        if party in self.script.unavailable:
            return Unavailable(at=self.clock)
        if party in self.script.no_answer:
            return NoAnswer(at=self.clock + action.timeout)
        return Answer(at=self.clock + ANSWER_DELAY)

    def _caller_event(self, state: CallState) -> Event:
        if self.pending:
            event = self.pending.pop()
            if isinstance(event, Dtmf):
                return Dtmf(event.digit, at=self.clock + DIGIT_GAP)
            if isinstance(event, AudioReceived):
                return AudioReceived(event.seconds, event.silent, at=self.clock + event.seconds)
            if isinstance(event, Timer):
                return Timer(at=self.clock + self._timer())
            return Hangup(at=self.clock)
        if isinstance(state.phase, _WAITING_FOR_KEYS):
            return Timer(at=self.clock + self._timer())
        talk = self.script.talk_seconds if isinstance(state.phase, Connected) else 0.0
        return Hangup(at=self.clock + talk)


def _render(batches: tuple[Batch, ...]) -> list[TraceStep]:
    steps: list[TraceStep] = []
    for at, event, actions in batches:
        if event is not None:
            steps.append(_event_step(event, at))
        for action in actions:
            if type(action) is a.HangUp and type(event) is Hangup:
                continue  # the trace already shows the caller hanging up
            shown = _step_for(action, at)
            if shown is not None:
                steps.append(shown)
    return steps


def _event_step(event: Event | str, at: float) -> TraceStep:
    if isinstance(event, str):
        return TraceStep("dtmf", at, digit="•")  # PINs never show in a trace
    if isinstance(event, Dtmf):
        return TraceStep("dtmf", at, digit=event.digit)
    if isinstance(event, Answer | Busy | NoAnswer | Unavailable):
        return TraceStep(_EVENT_KINDS[type(event)], at)
    if isinstance(event, Timer):
        return TraceStep("timeout", at)
    if isinstance(event, AudioReceived):
        return TraceStep("audio", at, reason="silent" if event.silent else f"{event.seconds:g}s")
    if isinstance(event, Hangup):
        return TraceStep("hangup", at, reason="caller")
    return TraceStep(type(event).__name__.lower(), at)


_EVENT_KINDS: dict[type, str] = {
    Answer: "answer",
    Busy: "busy",
    NoAnswer: "no_answer",
    Unavailable: "unavailable",
}


def _step_for(action: a.Action, at: float) -> TraceStep | None:
    """The trace line of an action (None for bookkeeping actions)."""
    if isinstance(action, a.PlayMessage):
        audio: Literal["ok", "missing"] = "ok" if action.audio_ok else "missing"
        return TraceStep("prompt", at, action.slot_id, action.slot_name, audio)
    if isinstance(action, a.PlayTone):
        return TraceStep("tone", at, reason=action.tone)
    if isinstance(action, a.RingUser):
        return TraceStep("ring", at, to=action.ext)
    if isinstance(action, a.DialExternal):
        return TraceStep("ring", at, to=action.e164)
    if isinstance(action, a.RingGroup):
        return TraceStep("ring", at, to=", ".join(ring.ext for ring in action.members))
    if isinstance(action, a.HoursChecked):
        branch = "open" if action.open else "closed"
        return TraceStep("hours", at, to=branch, reason=action.reason, detail=action.detail)
    if isinstance(action, a.DoNotDisturb):
        return TraceStep("dnd", at, to=action.ext)
    if isinstance(action, a.SetPresence):
        return TraceStep(
            "presence", at, to=action.ext, reason="dnd_on" if action.dnd else "dnd_off"
        )
    if isinstance(action, a.ForwardCall):
        return TraceStep("forward", at, to=action.to, reason=action.kind)
    if isinstance(action, a.RefuseLeg):
        return TraceStep("refused", at, to=action.to, reason=action.reason_code)
    if isinstance(action, a.EnterVoicemail):
        return TraceStep("voicemail", at, to=action.ext)
    if isinstance(action, a.RecordInto):
        return TraceStep("record", at, slot_id=action.slot_id, reason=action.purpose)
    return _storage_step(action, at)


def _storage_step(action: a.Action, at: float) -> TraceStep | None:
    if isinstance(action, a.DepositVoicemail):
        return TraceStep("deposit", at, to=action.ext, reason=f"{action.seconds:g}s")
    if isinstance(action, a.SaveGreeting):
        return TraceStep("greeting_saved", at, slot_id=action.slot_id)
    if isinstance(action, a.DeleteGreeting):
        return TraceStep("greeting_deleted", at, slot_id=action.slot_id)
    if isinstance(action, a.PlayRecording):
        return TraceStep("playback", at, reason=f"take {action.take}")
    if isinstance(action, a.StoreRecording):
        return TraceStep("stored", at, slot_id=action.slot_id)
    if isinstance(action, a.DiscardRecording):
        return TraceStep("discarded", at, reason=f"take {action.take}")
    if isinstance(action, a.MarkHeard):
        return TraceStep("messages_heard", at, reason=str(len(action.message_slots)))
    if isinstance(action, a.VerifyPin):
        return TraceStep("pin", at)
    if isinstance(action, a.CallbackFinished):
        return TraceStep("callback", at, slot_id=action.slot_id, reason=action.status)
    if isinstance(action, a.HangUp):
        return TraceStep("hangup", at, reason=action.reason)
    return None
