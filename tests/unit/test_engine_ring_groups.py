"""Ring groups and queue strategies: all at once, in order, round robin, least recently
answered; the group's ring time and overflow; a queue's position announcement and message on
hold; do-not-disturb (busy, so the busy forwarding applies; passed over in queues; *76)."""

from __future__ import annotations

from dataclasses import replace

from pbx.engine import (
    CallScript,
    DialplanSnapshot,
    MessageSlot,
    Queue,
    ToVoicemail,
    Trace,
    simulate,
)
from pbx.engine.actions import RingGroup, RingUser, SetPresence
from pbx.engine.dialplan import SystemPrompts
from pbx.engine.events import Answer, Dial, NoAnswer
from pbx.engine.presence import DND_CODE
from pbx.engine.sample import BO_MOBILE, CALLER, DIRECT_NUMBER, SUPPORT_NUMBER, sample_snapshot
from pbx.engine.states import Connected, new_call
from pbx.engine.step import step
from pbx.engine.validation import validate_dialplan

POSITIONS = tuple(f"s-pos-{n}" for n in range(1, 4))


def snapshot(**queue: object) -> DialplanSnapshot:
    base = sample_snapshot()
    group = replace(
        base.queues[0], members=("201", "202", "204"), overflow=ToVoicemail("204"), **queue
    )
    slots = (
        *base.slots,
        MessageSlot("s-hold", "Musik", "hold"),
        *(MessageSlot(p, p, "system") for p in POSITIONS),
    )
    prompts = replace(base.prompts, queue_positions=POSITIONS)
    return replace(base, queues=(group,), slots=slots, prompts=prompts)


def call(snap: DialplanSnapshot, **phones: tuple[str, ...]) -> Trace:
    script = CallScript(
        CALLER,
        SUPPORT_NUMBER,
        **{k: frozenset(v) for k, v in phones.items()},  # type: ignore[arg-type]
    )
    return simulate(snap, script)


def rings(trace: Trace) -> list[str | None]:
    return [s.to for s in trace.steps if s.kind == "ring"]


def test_ring_all_rings_every_member_at_once_and_the_first_free_answers() -> None:
    snap = snapshot(kind="ring_group", strategy="ring_all", ring_time=25, message_slot=None)
    state, actions = step(snap, new_call("c"), Dial(CALLER, SUPPORT_NUMBER))
    group = actions[-1]
    assert isinstance(group, RingGroup) and group.timeout == 25
    assert [r.ext for r in group.members] == ["201", "202", "204"]
    assert state.answered_at is None  # a ring group without a message does not answer
    state, _ = step(snap, state, Answer(at=3.0, by="202"))
    assert isinstance(state.phase, Connected) and state.phase.party == "202"
    trace = call(snap, busy=("201",))
    assert rings(trace) == ["201, 202, 204"] and trace.disposition == "answered"


def test_ring_all_nobody_answers_logs_each_member_then_overflows() -> None:
    snap = snapshot(kind="ring_group", strategy="ring_all", ring_time=15)
    state, _ = step(snap, new_call("c"), Dial(CALLER, SUPPORT_NUMBER))
    state, actions = step(snap, state, NoAnswer(at=15.0))
    legs = [a.leg for a in actions if type(a).__name__ == "WriteCallLog"]
    assert [(leg.callee, leg.disposition) for leg in legs] == [
        ("201", "no_answer"),
        ("202", "no_answer"),
        ("204", "no_answer"),
    ]
    assert ("voicemail", "204") in [
        (s.kind, s.to) for s in call(snap, no_answer=("201", "202", "204")).steps
    ]


def test_in_order_uses_the_group_ring_time_for_each_member() -> None:
    snap = snapshot(strategy="in_order", ring_time=7)
    _, actions = step(snap, new_call("c"), Dial(CALLER, SUPPORT_NUMBER))
    assert actions[-1] == RingUser("201", "u-anna", 7)
    assert rings(call(snap, no_answer=("201",))) == ["201", "202"]


def test_round_robin_starts_after_the_member_rung_last() -> None:
    snap = snapshot(strategy="round_robin", last_rung="202")
    assert rings(call(snap, busy=("204",))) == ["204", "201"]
    assert rings(call(snapshot(strategy="round_robin"))) == ["201"]  # no memory yet


def test_least_recent_rings_who_answered_longest_ago_first() -> None:
    answered = (("201", 300.0), ("202", 100.0))  # 204 never answered: first
    snap = snapshot(strategy="least_recent", last_answered=answered)
    assert rings(call(snap, busy=("204", "202"))) == ["204", "202", "201"]


def test_queue_announces_position_and_plays_the_message_on_hold() -> None:
    snap = snapshot(announce_position=True, hold_slot="s-hold", waiting=1)
    prompts = [s.slot_id for s in call(snap).steps if s.kind == "prompt"]
    assert prompts == ["s-queue", "s-pos-2", "s-hold"]
    many = snapshot(announce_position=True, waiting=10)
    assert [s.slot_id for s in call(many).steps if s.kind == "prompt"][1] == "s-pos-3"


def test_missing_hold_message_is_marked_and_the_call_goes_on() -> None:
    snap = snapshot(hold_slot="s-hold")
    slots = tuple(replace(s, audio_ok=False) if s.slot_id == "s-hold" else s for s in snap.slots)
    trace = call(replace(snap, slots=slots))
    assert ("s-hold", "missing") in [(s.slot_id, s.audio) for s in trace.steps]
    assert trace.disposition == "answered"


def test_ring_group_with_position_or_hold_is_invalid() -> None:
    snap = snapshot(kind="ring_group", announce_position=True)
    assert [p.code for p in validate_dialplan(snap)] == ["invalid_value"]
    assert validate_dialplan(snapshot(hold_slot="s-hold", ring_time=10)) == ()


def test_dnd_user_is_busy_and_the_busy_forwarding_applies() -> None:
    base = sample_snapshot()
    users = tuple(replace(u, dnd=True) if u.ext == "202" else u for u in base.users)
    snap = replace(base, users=users)
    # Bo (202) forwards when busy to his mobile; a call to him is forwarded without ringing
    trace = simulate(snap, CallScript("201", "202"))
    kinds = [(s.kind, s.to) for s in trace.steps]
    assert kinds[:2] == [("dnd", "202"), ("forward", BO_MOBILE)]
    assert ("ring", "202") not in kinds
    assert trace.call_log[0].disposition == "busy"
    # Anna's no-answer forwarding to Bo meets Bo's DND the same way
    trace = simulate(snap, CallScript(CALLER, DIRECT_NUMBER, no_answer=frozenset({"201"})))
    assert ("dnd", "202") in [(s.kind, s.to) for s in trace.steps]


def test_dnd_members_are_passed_over_in_queues() -> None:
    snap = snapshot()
    users = tuple(replace(u, dnd=u.ext == "201") for u in snap.users)
    trace = call(replace(snap, users=users))
    assert ("dnd", "201") in [(s.kind, s.to) for s in trace.steps]
    assert rings(trace) == ["202"]


def test_star_76_toggles_dnd_from_the_users_own_extension() -> None:
    base = sample_snapshot()
    prompts = replace(base.prompts, dnd_on="s-goodbye", dnd_off="s-goodbye")
    snap = replace(base, prompts=prompts)
    _, actions = step(snap, new_call("c"), Dial("202", DND_CODE))
    assert actions[0] == SetPresence("202", "u-bo", True)
    users = tuple(replace(u, dnd=u.ext == "202") for u in snap.users)
    _, actions = step(replace(snap, users=users), new_call("c"), Dial("202", DND_CODE))
    assert actions[0] == SetPresence("202", "u-bo", False)
    trace = simulate(snap, CallScript("202", DND_CODE))
    assert [(s.kind, s.reason) for s in trace.steps][0] == ("presence", "dnd_on")
    # an outside caller cannot set anyone's presence
    _, actions = step(snap, new_call("c"), Dial(CALLER, DND_CODE))
    assert not any(isinstance(a, SetPresence) for a in actions)


def test_queue_defaults_are_the_old_behaviour() -> None:
    queue = Queue("q", "Q", ("201",))
    assert (queue.kind, queue.strategy, queue.ring_time, queue.announce_position) == (
        "queue",
        "in_order",
        None,
        False,
    )
    assert SystemPrompts().queue_positions == ()
