"""Record-by-phone ("Spela in filen" → "Initiera samtal"): the switchboard calls a number and
records a message slot. Answered → instructions → tone → record, ended by # or hanging up →
review (1 listen, 2 record again, # save; hanging up saves). Unanswered, busy, refused or
silent sessions end with a clear status in `CallbackFinished`.

Whether the number may be used (it must be the requesting user's own) is the calling service's
check; the engine still applies the tenant's destination policy to the outbound leg."""

from __future__ import annotations

from dataclasses import replace

from pbx.engine.actions import (
    Action,
    CallbackFinished,
    DialExternal,
    DiscardRecording,
    PlayRecording,
    RecordInto,
    RefuseLeg,
    RingUser,
    StartTimer,
    StoreRecording,
)
from pbx.engine.common import BEEP, Result, answered, finish, log_leg, play
from pbx.engine.dialplan import DialplanSnapshot
from pbx.engine.events import (
    Answer,
    AudioReceived,
    Busy,
    Dtmf,
    Event,
    Hangup,
    NoAnswer,
    Timer,
    Unavailable,
)
from pbx.engine.states import (
    CallbackRecording,
    CallbackReview,
    CallbackRinging,
    CallState,
)

RING_TIME = 30
REVIEW_TIMEOUT = 10
_UNANSWERED: dict[type, str] = {
    Busy: "busy",
    NoAnswer: "no_answer",
    Timer: "no_answer",
    Unavailable: "unavailable",
    Hangup: "cancelled",
}


def start_callback(
    snap: DialplanSnapshot, call_id: str, to: str, slot_id: str, caller_id: str = ""
) -> Result:
    """Begin a record-by-phone session towards `to` (an E.164 number, or an extension of
    the company: the desk phone) for `slot_id`."""
    st = CallState(call_id, caller=caller_id, dialled=to, direction="callback")
    if slot_id not in snap.slot_index:
        return _end(snap, st, slot_id, "unknown_slot")
    desk = snap.user_index.get(to)
    if desk is not None:  # internal: no destination policy, it never leaves the switchboard
        return st.moved(CallbackRinging(slot_id, st.at)), [
            RingUser(desk.ext, desk.user_id, RING_TIME)
        ]
    refusal = snap.refusal(to)
    if refusal is not None:
        st, log = log_leg(
            snap,
            st,
            direction="callback",
            callee=to,
            since=st.at,
            disposition="refused",
            refused_reason=refusal.reason_code,
        )
        refused: list[Action] = [RefuseLeg(to, refusal.reason_code, refusal.message), log]
        return _end(snap, st, slot_id, "refused", refused)
    phase = CallbackRinging(slot_id, st.at)
    return st.moved(phase), [DialExternal(to, RING_TIME)]


def _end(
    snap: DialplanSnapshot,
    st: CallState,
    slot_id: str,
    status: str,
    before: list[Action] | None = None,
) -> Result:
    actions = [*(before or []), CallbackFinished(slot_id, status)]
    return finish(snap, st, status, "", actions)


def _record(
    snap: DialplanSnapshot,
    st: CallState,
    slot_id: str,
    answered_at: float,
    silent_takes: int,
    before: list[Action],
) -> Result:
    take = st.takes + 1
    seconds = snap.service.max_recording
    actions = [*before, BEEP, RecordInto("slot", take, seconds, None, slot_id)]
    actions.append(StartTimer(seconds))
    phase = CallbackRecording(slot_id, take, answered_at, 0.0, silent_takes)
    return st.evolve(phase=phase, takes=take), actions


def on_ringing(snap: DialplanSnapshot, st: CallState, event: Event) -> Result:
    phase = st.phase
    assert isinstance(phase, CallbackRinging)
    if isinstance(event, Answer):
        st = answered(st)
        instructions = play(snap, snap.prompts.callback_instructions, required=True)
        return _record(snap, st, phase.slot_id, st.at, 0, instructions)
    status = _UNANSWERED.get(type(event))
    if status is None:
        return st, []
    return _end(snap, st, phase.slot_id, status)


def on_recording(snap: DialplanSnapshot, st: CallState, event: Event) -> Result:
    phase = st.phase
    assert isinstance(phase, CallbackRecording)
    if isinstance(event, AudioReceived):
        if event.silent or event.seconds <= 0:
            return st, []
        return st.moved(replace(phase, seconds=phase.seconds + event.seconds)), []
    if isinstance(event, Hangup):
        return _save(snap, st, phase.slot_id, phase.take, phase.seconds)
    if not (isinstance(event, Timer) or (isinstance(event, Dtmf) and event.digit == "#")):
        return st, []
    if phase.seconds > 0:
        review = CallbackReview(phase.slot_id, phase.take, phase.answered, phase.seconds)
        return st.moved(review), _review_prompt(snap)
    silent = phase.silent_takes + 1
    discard: list[Action] = [DiscardRecording(phase.take)]
    if silent >= snap.service.max_attempts:
        return _end(snap, st, phase.slot_id, "silent", discard)
    discard += play(snap, snap.prompts.callback_no_audio, required=True)
    return _record(snap, st, phase.slot_id, phase.answered, silent, discard)


def _review_prompt(snap: DialplanSnapshot) -> list[Action]:
    return [*play(snap, snap.prompts.callback_review, required=True), StartTimer(REVIEW_TIMEOUT)]


def _save(
    snap: DialplanSnapshot,
    st: CallState,
    slot_id: str,
    take: int,
    seconds: float,
    confirm: list[Action] | None = None,
) -> Result:
    if seconds <= 0:
        return _end(snap, st, slot_id, "silent", [DiscardRecording(take)])
    stored: list[Action] = [StoreRecording(slot_id, take, seconds), *(confirm or [])]
    return _end(snap, st, slot_id, "recorded", stored)


def on_review(snap: DialplanSnapshot, st: CallState, event: Event) -> Result:
    phase = st.phase
    assert isinstance(phase, CallbackReview)
    if isinstance(event, Hangup | Timer):
        return _save(snap, st, phase.slot_id, phase.take, phase.seconds)
    if not isinstance(event, Dtmf):
        return st, []
    if event.digit == "#":
        saved = play(snap, snap.prompts.callback_saved)
        return _save(snap, st, phase.slot_id, phase.take, phase.seconds, saved)
    if event.digit == "1":
        return st, [PlayRecording(phase.take), *_review_prompt(snap)]
    if event.digit == "2":
        return _record(snap, st, phase.slot_id, phase.answered, 0, [DiscardRecording(phase.take)])
    attempts = phase.attempts + 1
    if attempts >= snap.service.max_attempts:
        return _save(snap, st, phase.slot_id, phase.take, phase.seconds)
    return st.moved(replace(phase, attempts=attempts)), _review_prompt(snap)
