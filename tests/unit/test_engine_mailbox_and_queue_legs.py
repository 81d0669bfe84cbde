"""Issue 17 items 4 and 6 in the engine: a greeting-only mailbox (the greeting is the whole
answer, nothing is recorded), and call-log legs that name the queue they rang from (the
statistics' calls and waiting time per queue)."""

from __future__ import annotations

from dataclasses import replace

from pbx.engine import CallScript, DialplanSnapshot, simulate, step
from pbx.engine.actions import (
    EnterVoicemail,
    HangUp,
    PlayMessage,
    RecordInto,
    WriteCallLog,
)
from pbx.engine.events import Dial, Dtmf
from pbx.engine.sample import CALLER, MAIN_NUMBER, SUPPORT_NUMBER, sample_snapshot
from pbx.engine.states import Ended, new_call

SNAP = sample_snapshot()


def greeting_only(ext: str) -> DialplanSnapshot:
    users = tuple(
        replace(u, voicemail=replace(u.voicemail, greeting_only=True))
        if u.ext == ext and u.voicemail
        else u
        for u in SNAP.users
    )
    return replace(SNAP, users=users)


def test_greeting_only_box_plays_the_greeting_and_hangs_up() -> None:
    snap = greeting_only("201")
    state, _ = step(snap, new_call("c"), Dial(CALLER, MAIN_NUMBER))
    state, actions = step(snap, state, Dtmf("3", at=2.0))
    assert actions[:2] == [
        EnterVoicemail("201", "vm-anna"),
        PlayMessage("s-greet-anna", "Anna's greeting", True),
    ]
    assert not any(isinstance(a, RecordInto) for a in actions)
    assert actions[-1] == HangUp("greeting_only")
    assert state.phase == Ended("hung_up", "greeting_only")
    (leg,) = [a.leg for a in actions if isinstance(a, WriteCallLog)]
    assert leg.leg == 1 and leg.answered_at is not None  # counted as answered


def test_other_boxes_still_record() -> None:
    snap = greeting_only("204")
    state, _ = step(snap, new_call("c"), Dial(CALLER, MAIN_NUMBER))
    _, actions = step(snap, state, Dtmf("3", at=2.0))
    assert any(isinstance(a, RecordInto) for a in actions)


def test_queue_legs_name_their_queue() -> None:
    trace = simulate(SNAP, CallScript(CALLER, SUPPORT_NUMBER, busy=frozenset({"202"})))
    by_leg = {leg.callee: leg for leg in trace.call_log if leg.leg != 1}
    assert by_leg["202"].queue_id == "q-support" and by_leg["202"].disposition == "busy"
    assert by_leg["204"].queue_id == "q-support" and by_leg["204"].disposition == "answered"
    whole = next(leg for leg in trace.call_log if leg.leg == 1)
    assert whole.queue_id is None


def test_direct_calls_name_no_queue() -> None:
    trace = simulate(SNAP, CallScript(CALLER, MAIN_NUMBER, (Dtmf("1", at=2.0),)))
    assert all(leg.queue_id is None for leg in trace.call_log)
