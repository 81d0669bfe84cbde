"""Record-by-phone ("Spela in filen" → "Initiera samtal"): the switchboard calls the user,
plays instructions, records after the tone until # or hang-up, lets them listen and record
again, and stores the take as a new version of the slot; other outcomes end with a status."""

from __future__ import annotations

import pytest

from pbx.engine import simulate_callback, start_callback, step
from pbx.engine.actions import (
    Action,
    CallbackFinished,
    DialExternal,
    DiscardRecording,
    PlayMessage,
    PlayRecording,
    PlayTone,
    RecordInto,
    RefuseLeg,
    RingUser,
    StartTimer,
    StoreRecording,
    WriteCallLog,
)
from pbx.engine.events import Answer, AudioReceived, Dtmf, Event, Hangup, Timer
from pbx.engine.sample import ANNA_MOBILE, sample_snapshot
from pbx.engine.states import CallbackRecording, CallbackReview, CallState, Ended
from pbx.policies import InvalidNumber

SNAP = sample_snapshot()
SLOT = "s-welcome"


def feed(state: CallState, *events: Event) -> tuple[CallState, list[Action]]:
    actions: list[Action] = []
    for event in events:
        state, actions = step(SNAP, state, event)
    return state, actions


def answered() -> tuple[CallState, list[Action]]:
    state, actions = start_callback(SNAP, "cb-1", ANNA_MOBILE, SLOT)
    assert actions == [DialExternal(ANNA_MOBILE, 30)]
    return feed(state, Answer(at=4.0))


def test_an_extension_rings_the_desk_phone_without_the_outside_policy() -> None:
    state, actions = start_callback(SNAP, "cb-desk", "201", SLOT)
    assert actions == [RingUser("201", "u-anna", 30)]
    state, actions = feed(state, Answer(at=3.0))
    assert state.phase == CallbackRecording(SLOT, 1, 3.0)


def test_an_unknown_extension_is_not_rung() -> None:
    state, actions = start_callback(SNAP, "cb-none", "999", SLOT)
    assert isinstance(state.phase, Ended)
    assert not any(isinstance(a, RingUser | DialExternal) for a in actions)


def finished(actions: list[Action]) -> str:
    return next(a.status for a in actions if isinstance(a, CallbackFinished))


def test_answer_plays_instructions_then_tone_then_records_the_slot() -> None:
    state, actions = answered()
    assert actions == [
        PlayMessage("s-cb-instructions", "Record after the tone, hang up or press #", True),
        PlayTone("beep"),
        RecordInto("slot", 1, 120, None, SLOT),
        StartTimer(120),
    ]
    assert state.phase == CallbackRecording(SLOT, 1, 4.0)


def test_speak_and_hang_up_stores_the_recording() -> None:
    state, actions = feed(answered()[0], AudioReceived(7.0), Hangup(at=11.0))
    assert actions[0] == StoreRecording(SLOT, 1, 7.0)
    assert finished(actions) == "recorded"
    assert state.phase == Ended("recorded")
    leg = next(a.leg for a in actions if isinstance(a, WriteCallLog))
    assert (leg.direction, leg.callee, leg.answered_at, leg.ended_at) == (
        "callback", ANNA_MOBILE, 4.0, 11.0,
    )  # fmt: skip


def test_hash_ends_the_recording_and_offers_review() -> None:
    state, actions = feed(answered()[0], AudioReceived(5.0), Dtmf("#"))
    assert state.phase == CallbackReview(SLOT, 1, 4.0, 5.0)
    assert actions == [
        PlayMessage("s-cb-review", "1 listen, 2 record again, # save", True),
        StartTimer(10),
    ]


def test_review_listen_then_save() -> None:
    state, _ = feed(answered()[0], AudioReceived(5.0), Dtmf("#"))
    state, actions = feed(state, Dtmf("1"))
    assert actions[0] == PlayRecording(1)
    state, actions = feed(state, Dtmf("#"))
    assert actions[:2] == [StoreRecording(SLOT, 1, 5.0), PlayMessage("s-cb-saved", "Saved", True)]
    assert finished(actions) == "recorded"


def test_review_record_again_discards_the_first_take() -> None:
    state, _ = feed(answered()[0], AudioReceived(5.0), Dtmf("#"))
    state, actions = feed(state, Dtmf("2"))
    assert actions[:3] == [
        DiscardRecording(1),
        PlayTone("beep"),
        RecordInto("slot", 2, 120, None, SLOT),
    ]
    state, actions = feed(state, AudioReceived(3.0), Hangup())
    assert actions[0] == StoreRecording(SLOT, 2, 3.0)


@pytest.mark.parametrize("event", [Hangup(), Timer()])
def test_hanging_up_or_silence_at_review_saves(event: Event) -> None:
    state, _ = feed(answered()[0], AudioReceived(5.0), Dtmf("#"))
    state, actions = feed(state, event)
    assert actions[0] == StoreRecording(SLOT, 1, 5.0)


def test_invalid_review_keys_are_limited_then_saved() -> None:
    state, _ = feed(answered()[0], AudioReceived(5.0), Dtmf("#"))
    state, actions = feed(state, Dtmf("7"))
    assert isinstance(state.phase, CallbackReview) and state.phase.attempts == 1
    state, actions = feed(state, Dtmf("7"), Dtmf("7"))
    assert finished(actions) == "recorded"


def test_silent_recording_is_retried_then_ends_as_silent() -> None:
    state, actions = feed(answered()[0], AudioReceived(5.0, silent=True), Dtmf("#"))
    assert actions[0] == DiscardRecording(1)
    assert PlayMessage("s-cb-no-audio", "Nothing was recorded", True) in actions
    assert isinstance(state.phase, CallbackRecording) and state.phase.take == 2
    state, actions = feed(state, Dtmf("#"), Timer())
    assert state.phase == Ended("silent")
    assert finished(actions) == "silent"


def test_hanging_up_without_speaking_is_silent() -> None:
    state, actions = feed(answered()[0], Hangup())
    assert actions[0] == DiscardRecording(1)
    assert finished(actions) == "silent"


@pytest.mark.parametrize("outcome", ["busy", "no_answer", "unavailable"])
def test_unanswered_callbacks_end_with_a_clear_status(outcome: str) -> None:
    trace = simulate_callback(SNAP, ANNA_MOBILE, SLOT, outcome=outcome)  # type: ignore[arg-type]
    assert trace.disposition == outcome
    assert [s.reason for s in trace.steps if s.kind == "callback"] == [outcome]
    assert not any(isinstance(a, RecordInto) for a in trace.actions)


def test_hanging_up_the_ringing_session_is_cancelled() -> None:
    state, _ = start_callback(SNAP, "cb", ANNA_MOBILE, SLOT)
    _, actions = feed(state, Hangup())
    assert finished(actions) == "cancelled"


def test_a_refused_destination_is_never_called() -> None:
    state, actions = start_callback(SNAP, "cb", "+46900123456", SLOT)
    assert state.phase == Ended("refused")
    assert isinstance(actions[0], RefuseLeg) and actions[0].reason_code == "premium_rate"
    assert not any(isinstance(a, DialExternal) for a in actions)
    legs = [a.leg for a in actions if isinstance(a, WriteCallLog)]
    assert legs[0].refused_reason == "premium_rate"


def test_unknown_slot_is_refused_before_calling() -> None:
    state, actions = start_callback(SNAP, "cb", ANNA_MOBILE, "s-nope")
    assert state.phase == Ended("unknown_slot")
    assert not any(isinstance(a, DialExternal) for a in actions)


def test_simulated_session_end_to_end() -> None:
    trace = simulate_callback(
        SNAP, "+46 70 123 45 67", SLOT, events=[AudioReceived(6.0), Dtmf("#"), Dtmf("1")]
    )
    kinds = [s.kind for s in trace.steps]
    assert kinds[:6] == ["ring", "answer", "prompt", "tone", "record", "audio"]
    assert "playback" in kinds and "stored" in kinds
    assert trace.disposition == "recorded"


def test_simulate_callback_rejects_a_malformed_number() -> None:
    with pytest.raises(InvalidNumber):
        simulate_callback(SNAP, "0701234567", SLOT)
