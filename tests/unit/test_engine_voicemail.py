"""Voicemail: personal greeting, else the default one (also when the personal greeting's
audio is missing), the tone, recording and depositing the caller's message."""

from __future__ import annotations

from dataclasses import replace

from pbx.engine import DialplanSnapshot, SystemPrompts, new_call, step
from pbx.engine.actions import (
    DepositVoicemail,
    DiscardRecording,
    EnterVoicemail,
    PlayMessage,
    PlayTone,
    RecordInto,
    StartTimer,
    WriteCallLog,
)
from pbx.engine.events import AudioReceived, Dial, Dtmf, Hangup, NoAnswer, Timer
from pbx.engine.sample import CALLER, MAIN_NUMBER, sample_snapshot
from pbx.engine.states import CallState, Ended, RecordingVoicemail

SNAP = sample_snapshot()


def missing(snap: DialplanSnapshot, slot_id: str) -> DialplanSnapshot:
    slots = tuple(replace(s, audio_ok=False) if s.slot_id == slot_id else s for s in snap.slots)
    return replace(snap, slots=slots)


def to_voicemail(snap: DialplanSnapshot, digit: str = "3") -> tuple[CallState, list[object]]:
    """Main menu key 3 goes straight to Anna's voicemail (personal greeting)."""
    state, _ = step(snap, new_call("c"), Dial(CALLER, MAIN_NUMBER))
    state, actions = step(snap, state, Dtmf(digit, at=2.0))
    return state, list(actions)


def test_personal_greeting_then_tone_then_recording() -> None:
    state, actions = to_voicemail(SNAP)
    assert actions == [
        EnterVoicemail("201", "vm-anna"),
        PlayMessage("s-greet-anna", "Anna's greeting", True),
        PlayTone("beep"),
        RecordInto("voicemail", 1, 180, "vm-anna"),
        StartTimer(180),
    ]
    assert state.phase == RecordingVoicemail("201", "vm-anna", 1, 2.0)


def test_missing_personal_greeting_falls_back_to_the_default_greeting() -> None:
    _, actions = to_voicemail(missing(SNAP, "s-greet-anna"))
    assert actions[1:3] == [
        PlayMessage("s-greet-anna", "Anna's greeting", False),
        PlayMessage("s-default-greeting", "Default greeting", True),
    ]


def test_missing_default_greeting_too_plays_the_fallback_tone() -> None:
    snap = missing(missing(SNAP, "s-greet-anna"), "s-default-greeting")
    _, actions = to_voicemail(snap)
    assert actions[3:5] == [PlayTone("fallback"), PlayTone("beep")]


def test_no_personal_greeting_plays_the_default_one() -> None:
    users = tuple(
        replace(u, voicemail=replace(u.voicemail, greeting_slot=None)) if u.voicemail else u
        for u in SNAP.users
    )
    _, actions = to_voicemail(replace(SNAP, users=users))
    assert actions[1] == PlayMessage("s-default-greeting", "Default greeting", True)


def test_no_greeting_configured_at_all_plays_the_tone() -> None:
    users = tuple(
        replace(u, voicemail=replace(u.voicemail, greeting_slot=None)) if u.voicemail else u
        for u in SNAP.users
    )
    snap = replace(SNAP, users=users, prompts=SystemPrompts())
    _, actions = to_voicemail(snap)
    assert actions[1:3] == [PlayTone("fallback"), PlayTone("beep")]


def test_hangup_after_speaking_deposits_the_message() -> None:
    state, _ = to_voicemail(SNAP)
    state, _ = step(SNAP, state, AudioReceived(4.0, at=6.0))
    state, _ = step(SNAP, state, AudioReceived(2.5, at=8.5))
    state, actions = step(SNAP, state, Hangup(at=9.0))
    assert actions[0] == DepositVoicemail("vm-anna", "201", CALLER, 1, 6.5)
    legs = [a.leg for a in actions if isinstance(a, WriteCallLog)]
    assert [(leg.leg, leg.disposition) for leg in legs] == [(2, "voicemail"), (1, "voicemail")]
    assert (legs[0].started_at, legs[0].ended_at, legs[0].user_id) == (2.0, 9.0, "u-anna")
    assert state.phase == Ended("voicemail")


def test_hash_ends_the_message_and_says_goodbye() -> None:
    state, _ = to_voicemail(SNAP)
    state, _ = step(SNAP, state, AudioReceived(4.0))
    state, actions = step(SNAP, state, Dtmf("#"))
    assert PlayMessage("s-goodbye", "Goodbye", True) in actions
    assert state.phase == Ended("voicemail")


def test_silence_is_not_deposited() -> None:
    state, _ = to_voicemail(SNAP)
    state, _ = step(SNAP, state, AudioReceived(5.0, silent=True))
    state, actions = step(SNAP, state, Hangup())
    assert actions[0] == DiscardRecording(1)
    assert state.phase == Ended("abandoned")


def test_maximum_length_ends_the_recording() -> None:
    state, _ = to_voicemail(SNAP)
    state, _ = step(SNAP, state, AudioReceived(180.0))
    state, actions = step(SNAP, state, Timer(at=182.0))
    assert isinstance(actions[0], DepositVoicemail)
    assert state.is_final


def test_other_keys_during_recording_are_ignored() -> None:
    state, _ = to_voicemail(SNAP)
    after, actions = step(SNAP, state, Dtmf("5"))
    assert (after.phase, actions) == (state.phase, [])


def test_user_without_box_routes_to_unreachable() -> None:
    # Cecilia (203) forwards everything to David, who has a box: make David box-less
    users = tuple(replace(u, voicemail=None) if u.ext == "204" else u for u in SNAP.users)
    snap = replace(SNAP, users=users)
    state, _ = step(snap, new_call("c"), Dial(CALLER, "203"))
    state, actions = step(snap, state, NoAnswer(at=20.0))
    assert state.phase == Ended("unreachable", "")
    assert PlayMessage("s-unavailable", "Nobody can take your call", True) in actions
