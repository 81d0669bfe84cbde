"""Queues and ring groups hunt round after round, in the order of their strategy, until the
maximum wait is up; then the overflow. A round where nobody could ring ends the hunt."""

from __future__ import annotations

from dataclasses import replace

from pbx.engine import CallScript, DialplanSnapshot, ToVoicemail, Trace, simulate, step
from pbx.engine.actions import RingGroup, RingUser
from pbx.engine.events import Answer, Busy, Dial, NoAnswer, Timer, Unavailable
from pbx.engine.sample import CALLER, SUPPORT_NUMBER, sample_snapshot
from pbx.engine.states import Connected, InQueue, RecordingVoicemail, new_call


def snapshot(**queue: object) -> DialplanSnapshot:
    """The sample support queue with 201, 202 and 204, 10 s a ring, 45 s at most."""
    base = sample_snapshot()
    settings: dict[str, object] = {
        "members": ("201", "202", "204"),
        "overflow": ToVoicemail("204"),
        "ring_time": 10,
        "max_wait": 45,
        **queue,
    }
    return replace(base, queues=(replace(base.queues[0], **settings),))


def call(snap: DialplanSnapshot, **phones: tuple[str, ...]) -> Trace:
    script = CallScript(
        CALLER,
        SUPPORT_NUMBER,
        **{k: frozenset(v) for k, v in phones.items()},  # type: ignore[arg-type]
    )
    return simulate(snap, script)


def rings(trace: Trace) -> list[str | None]:
    return [s.to for s in trace.steps if s.kind == "ring"]


def test_in_order_keeps_hunting_until_the_maximum_wait_then_overflows() -> None:
    trace = call(snapshot(), no_answer=("201", "202", "204"))
    assert rings(trace) == ["201", "202", "204", "201", "202"]
    assert ("voicemail", "204") in [(s.kind, s.to) for s in trace.steps]
    legs = [leg for leg in trace.call_log if leg.queue_id == "q-support"]
    assert len(legs) == 5 and {leg.disposition for leg in legs} == {"no_answer"}


def test_the_last_ring_is_cut_to_the_wait_left() -> None:
    snap = snapshot()
    state, _ = step(snap, new_call("c"), Dial(CALLER, SUPPORT_NUMBER))
    for at in (10.0, 20.0, 30.0):
        state, actions = step(snap, state, NoAnswer(at=at))
    state, actions = step(snap, state, NoAnswer(at=40.0))
    assert actions[-1] == RingUser("202", "u-bo", 5.0)  # second round, 5 s left
    state, _ = step(snap, state, NoAnswer(at=45.0))
    assert isinstance(state.phase, RecordingVoicemail)


def test_a_member_answers_in_the_second_round() -> None:
    snap = snapshot()
    state, _ = step(snap, new_call("c"), Dial(CALLER, SUPPORT_NUMBER))
    for at in (10.0, 20.0, 30.0):
        state, actions = step(snap, state, NoAnswer(at=at))
    assert isinstance(state.phase, InQueue) and state.phase.index == 0
    assert actions[-1] == RingUser("201", "u-anna", 10)
    state, _ = step(snap, state, Answer(at=33.0))
    assert isinstance(state.phase, Connected) and state.phase.party == "201"


def test_busy_members_are_tried_again_in_the_next_round() -> None:
    trace = call(snapshot(), busy=("201",), no_answer=("202", "204"))
    assert rings(trace) == ["201", "202", "204", "201", "202", "204", "201", "202"]


def test_a_round_where_nobody_could_ring_overflows_at_once() -> None:
    trace = call(snapshot(), busy=("201", "202"), unavailable=("204",))
    assert rings(trace) == ["201", "202", "204"]
    assert ("voicemail", "204") in [(s.kind, s.to) for s in trace.steps]


def test_round_robin_keeps_its_order_in_every_round() -> None:
    snap = snapshot(strategy="round_robin", last_rung="201")
    trace = call(snap, no_answer=("201", "202", "204"))
    assert rings(trace) == ["202", "204", "201", "202", "204"]


def test_least_recent_keeps_its_order_in_every_round() -> None:
    last = (("201", 30.0), ("202", 10.0), ("204", 20.0))
    trace = call(
        snapshot(strategy="least_recent", last_answered=last), no_answer=("201", "202", "204")
    )
    assert rings(trace) == ["202", "204", "201", "202", "204"]


def test_ring_all_rings_everyone_again_until_the_maximum_wait() -> None:
    snap = snapshot(kind="ring_group", strategy="ring_all", ring_time=20)
    state, _ = step(snap, new_call("c"), Dial(CALLER, SUPPORT_NUMBER))
    state, actions = step(snap, state, NoAnswer(at=20.0))
    group = actions[-1]
    assert isinstance(group, RingGroup) and group.timeout == 20
    state, actions = step(snap, state, NoAnswer(at=40.0))
    group = actions[-1]
    assert isinstance(group, RingGroup) and group.timeout == 5.0
    state, _ = step(snap, state, NoAnswer(at=45.0))
    assert isinstance(state.phase, RecordingVoicemail)


def test_ring_all_everyone_busy_overflows_at_once() -> None:
    snap = snapshot(kind="ring_group", strategy="ring_all")
    state, _ = step(snap, new_call("c"), Dial(CALLER, SUPPORT_NUMBER))
    state, _ = step(snap, state, Busy(at=0.0))
    assert isinstance(state.phase, RecordingVoicemail)


def test_time_passing_in_a_round_allows_the_next_one() -> None:
    snap = snapshot()
    state, _ = step(snap, new_call("c"), Dial(CALLER, SUPPORT_NUMBER))
    state, _ = step(snap, state, Unavailable(at=0.0))
    state, _ = step(snap, state, Busy(at=0.0))
    state, actions = step(snap, state, NoAnswer(at=10.0))
    assert actions[-1] == RingUser("201", "u-anna", 10)  # the second round begins


def test_the_queue_timer_still_overflows_in_a_later_round() -> None:
    snap = snapshot()
    state, _ = step(snap, new_call("c"), Dial(CALLER, SUPPORT_NUMBER))
    for at in (10.0, 20.0, 30.0):
        state, _ = step(snap, state, NoAnswer(at=at))
    state, _ = step(snap, state, Timer(at=45.0))
    assert isinstance(state.phase, RecordingVoicemail)
