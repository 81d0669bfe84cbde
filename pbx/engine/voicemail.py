"""Voicemail: the greeting (personal, else the tenant's default), the tone, and recording the
caller's message."""

from __future__ import annotations

from pbx.engine.actions import (
    Action,
    DepositVoicemail,
    DiscardRecording,
    EnterVoicemail,
    RecordInto,
    StartTimer,
)
from pbx.engine.common import BEEP, Result, finish, log_leg, play, unreachable
from pbx.engine.dialplan import DialplanSnapshot
from pbx.engine.events import AudioReceived, Dtmf, Event, Hangup, Timer
from pbx.engine.states import CallState, RecordingVoicemail


def enter_voicemail(
    snap: DialplanSnapshot, st: CallState, ext: str, before: list[Action] | None = None
) -> Result:
    actions = list(before or [])
    user = snap.user_index.get(ext)
    box = user.voicemail if user is not None else None
    if box is None:
        return unreachable(snap, st, "no_voicemail", actions)
    default = snap.prompts.default_greeting
    if box.greeting_slot is not None:
        greeting = play(snap, box.greeting_slot, default, required=True)
    else:
        greeting = play(snap, default, required=True)
    actions.append(EnterVoicemail(ext, box.box_id))
    actions += greeting
    if box.greeting_only:
        # Greeting-only: the greeting is the whole answer (no tone, nothing recorded); the
        # call ends as the switchboard saying goodbye after answering.
        st = st.evolve(answered_at=st.at if st.answered_at is None else st.answered_at)
        return finish(snap, st, "hung_up", "greeting_only", actions)
    take = st.takes + 1
    seconds = snap.limits.max_voicemail
    actions += [BEEP, RecordInto("voicemail", take, seconds, box.box_id), StartTimer(seconds)]
    phase = RecordingVoicemail(ext, box.box_id, take, st.at)
    return st.evolve(
        phase=phase, takes=take, answered_at=st.at if st.answered_at is None else st.answered_at
    ), actions


def on_recording(snap: DialplanSnapshot, st: CallState, event: Event) -> Result:
    phase = st.phase
    assert isinstance(phase, RecordingVoicemail)
    if isinstance(event, AudioReceived):
        if event.silent or event.seconds <= 0:
            return st, []
        seconds = phase.seconds + event.seconds
        recording = RecordingVoicemail(phase.ext, phase.box_id, phase.take, phase.since, seconds)
        return st.moved(recording), []
    if isinstance(event, Hangup | Timer) or (isinstance(event, Dtmf) and event.digit == "#"):
        return _close(snap, st, phase, caller_left=isinstance(event, Hangup))
    return st, []


def _close(
    snap: DialplanSnapshot, st: CallState, phase: RecordingVoicemail, caller_left: bool
) -> Result:
    user = snap.user_index.get(phase.ext)
    user_id = user.user_id if user is not None else None
    kept = phase.seconds > 0
    actions: list[Action] = [
        DepositVoicemail(phase.box_id, phase.ext, st.caller, phase.take, phase.seconds)
        if kept
        else DiscardRecording(phase.take)
    ]
    disposition = "voicemail" if kept else "abandoned"
    st, log = log_leg(
        snap,
        st,
        direction="internal",
        callee=phase.ext,
        since=phase.since,
        answered_at=phase.since,
        disposition=disposition,
        user_id=user_id,
    )
    actions.append(log)
    if not caller_left:
        actions += play(snap, snap.prompts.goodbye)
    return finish(snap, st, disposition, "", actions)
