"""Queues: queue message, members hunted in order within the maximum wait, overflow."""

from __future__ import annotations

from dataclasses import replace

from pbx.engine import CallScript, Queue, ToVoicemail, Trace, new_call, simulate, step
from pbx.engine.actions import RingUser, StartTimer
from pbx.engine.events import Answer, Busy, Dial, Hangup, NoAnswer, Timer, Unavailable
from pbx.engine.sample import CALLER, SUPPORT_NUMBER, sample_snapshot
from pbx.engine.states import Connected, Ended, InQueue, RecordingVoicemail

SNAP = sample_snapshot()  # support queue: Bo (202, ring 10 s), David (204, ring 20 s)


def call(
    busy: tuple[str, ...] = (), no_answer: tuple[str, ...] = (), unavailable: tuple[str, ...] = ()
) -> Trace:
    script = CallScript(
        CALLER,
        SUPPORT_NUMBER,
        busy=frozenset(busy),
        no_answer=frozenset(no_answer),
        unavailable=frozenset(unavailable),
    )
    return simulate(SNAP, script)


def rings(trace: Trace) -> list[str | None]:
    return [s.to for s in trace.steps if s.kind == "ring"]


def test_queue_message_then_first_member_answers() -> None:
    trace = call()
    assert trace.steps[0].slot_id == "s-queue"
    assert rings(trace) == ["202"]
    assert trace.disposition == "answered"


def test_busy_and_unanswered_members_are_skipped_in_order() -> None:
    trace = call(busy=("202",))
    assert rings(trace) == ["202", "204"]
    assert trace.disposition == "answered"
    assert [leg.disposition for leg in trace.call_log][:2] == ["busy", "answered"]


def test_member_forwarding_rules_do_not_apply_in_a_queue() -> None:
    trace = call(busy=("202",), unavailable=("204",))
    assert "forward" not in [s.kind for s in trace.steps]


def test_nobody_answers_so_the_call_overflows() -> None:
    # 10 s + 20 s a round: a second round fills the 60 s wait (the last ring cut to 20 s)
    trace = call(no_answer=("202", "204"))
    assert rings(trace) == ["202", "204", "202", "204"]
    assert ("voicemail", "204") in [(s.kind, s.to) for s in trace.steps]


def test_max_wait_caps_each_ring_and_overflows() -> None:
    queue = replace(SNAP.queues[0], max_wait=15)
    snap = replace(SNAP, queues=(queue,))
    state, actions = step(snap, new_call("c"), Dial(CALLER, SUPPORT_NUMBER))
    assert actions[-2:] == [StartTimer(15), RingUser("202", "u-bo", 10)]
    state, actions = step(snap, state, NoAnswer(at=10.0))
    assert actions[-1] == RingUser("204", "u-david", 5.0)  # only 5 s of the wait left
    state, actions = step(snap, state, NoAnswer(at=15.0))
    assert isinstance(state.phase, RecordingVoicemail)


def test_queue_timer_overflows_at_once() -> None:
    state, _ = step(SNAP, new_call("c"), Dial(CALLER, SUPPORT_NUMBER))
    assert isinstance(state.phase, InQueue)
    state, actions = step(SNAP, state, Timer(at=60.0))
    assert isinstance(state.phase, RecordingVoicemail)


def test_answer_and_hangup_in_a_queue() -> None:
    state, _ = step(SNAP, new_call("c"), Dial(CALLER, SUPPORT_NUMBER))
    state, _ = step(SNAP, state, Busy())
    state, _ = step(SNAP, state, Answer(at=3.0))
    assert isinstance(state.phase, Connected) and state.phase.party == "204"
    state, _ = step(SNAP, state, Hangup(at=30.0))
    assert state.phase == Ended("answered")


def test_caller_hangs_up_while_waiting() -> None:
    state, _ = step(SNAP, new_call("c"), Dial(CALLER, SUPPORT_NUMBER))
    state, actions = step(SNAP, state, Hangup(at=2.0))
    assert state.phase == Ended("abandoned")


def test_removed_members_are_skipped_and_an_empty_queue_overflows() -> None:
    queue = Queue("q-support", "Support", ("299", "204"), overflow=ToVoicemail("204"))
    snap = replace(SNAP, queues=(queue,))
    state, actions = step(snap, new_call("c"), Dial(CALLER, SUPPORT_NUMBER))
    assert actions[-1] == RingUser("204", "u-david", 20)
    empty = replace(SNAP, queues=(replace(queue, members=()),))
    state, actions = step(empty, new_call("c"), Dial(CALLER, SUPPORT_NUMBER))
    assert isinstance(state.phase, RecordingVoicemail)


def test_unavailable_member_is_skipped() -> None:
    state, _ = step(SNAP, new_call("c"), Dial(CALLER, SUPPORT_NUMBER))
    state, actions = step(SNAP, state, Unavailable())
    assert actions[-1] == RingUser("204", "u-david", 20)
