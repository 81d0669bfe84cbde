"""Inbound routing: number → welcome → IVR menus (digits, nested menus, '*' repeat, invalid
digits and the retry limit, timeout) → destinations; missing media; bad input."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pbx.engine import (
    CallScript,
    DialplanSnapshot,
    InvalidDtmf,
    IvrMenu,
    Limits,
    MessageSlot,
    NumberRoute,
    Queue,
    ToHangup,
    ToIvr,
    ToQueue,
    Trace,
    UnknownNumber,
    check_script,
    new_call,
    parse_dtmf,
    script_events,
    simulate,
    step,
)
from pbx.engine.actions import HangUp, PlayMessage, StartTimer, WriteCallLog
from pbx.engine.events import AudioReceived, Dial, Dtmf, Hangup, NoAnswer, Timer
from pbx.engine.sample import (
    ANNA_MOBILE,
    CALLER,
    DIRECT_NUMBER,
    MAIN_NUMBER,
    sample_snapshot,
)
from pbx.engine.states import Ended, InMenu, Ringing
from pbx.policies import InvalidNumber

SNAP = sample_snapshot()


def call(
    dtmf: str = "",
    *,
    snap: DialplanSnapshot = SNAP,
    to: str = MAIN_NUMBER,
    caller: str = CALLER,
    say: float | None = None,
    no_answer: tuple[str, ...] = (),
) -> Trace:
    script = CallScript(caller, to, script_events(dtmf, say), no_answer=frozenset(no_answer))
    return simulate(snap, script)


def kinds(trace: Trace) -> list[str]:
    return [s.kind for s in trace.steps]


def prompts(trace: Trace) -> list[str | None]:
    return [s.slot_id for s in trace.steps if s.kind == "prompt"]


def with_slot_missing(snap: DialplanSnapshot, slot_id: str) -> DialplanSnapshot:
    slots = tuple(replace(s, audio_ok=False) if s.slot_id == slot_id else s for s in snap.slots)
    return replace(snap, slots=slots)


def test_welcome_then_two_menus_then_the_user_answers() -> None:
    trace = call("11")
    assert prompts(trace) == ["s-welcome", "s-main", "s-sales"]
    assert kinds(trace) == [
        "prompt", "prompt", "dtmf", "prompt", "dtmf", "ring", "answer", "hangup",
    ]  # fmt: skip
    assert trace.steps[5].to == "201"
    assert trace.disposition == "answered"
    assert [step.audio for step in trace.steps if step.kind == "prompt"] == ["ok"] * 3


def test_direct_number_without_welcome_rings_the_user() -> None:
    trace = call(to=DIRECT_NUMBER)
    assert kinds(trace)[:2] == ["ring", "answer"]
    assert trace.disposition == "answered"


def test_star_repeats_the_menu_without_the_invalid_prompt() -> None:
    trace = call("*12")
    assert prompts(trace) == ["s-welcome", "s-main", "s-main", "s-sales"]


def test_invalid_digit_plays_the_invalid_prompt_and_the_menu_again() -> None:
    trace = call("712")
    assert prompts(trace) == ["s-welcome", "s-main", "s-invalid", "s-main", "s-sales"]


def test_retry_limit_sends_the_call_to_the_timeout_destination() -> None:
    # main menu: max_retries=2, timeout destination is Anna (201)
    trace = call("77*")
    assert prompts(trace).count("s-invalid") == 2
    ring = [s for s in trace.steps if s.kind == "ring"]
    assert ring and ring[0].to == "201"


def test_timeout_sends_the_call_to_the_default_destination() -> None:
    trace = call("")  # the caller keys nothing
    assert "timeout" in kinds(trace)
    assert [s.to for s in trace.steps if s.kind == "ring"] == ["201"]


def test_timeout_of_a_sub_menu_goes_back_to_the_main_menu() -> None:
    state, _ = step(SNAP, new_call("c"), Dial(CALLER, MAIN_NUMBER))
    state, _ = step(SNAP, state, Dtmf("1"))
    assert state.phase == InMenu("m-sales")
    state, actions = step(SNAP, state, Timer(at=5.0))
    assert state.phase == InMenu("m-main")
    assert PlayMessage("s-main", "Main menu", True) in actions


def test_menu_option_to_hangup_plays_goodbye() -> None:
    trace = call("9")
    assert prompts(trace)[-1] == "s-goodbye"
    assert trace.disposition == "hung_up"


def test_missing_welcome_plays_a_fallback_tone_and_the_call_goes_on() -> None:
    trace = call("11", snap=with_slot_missing(SNAP, "s-welcome"))
    first, second = trace.steps[0], trace.steps[1]
    assert (first.kind, first.slot_id, first.audio) == ("prompt", "s-welcome", "missing")
    assert (second.kind, second.reason) == ("tone", "fallback")
    assert trace.disposition == "answered"


def test_missing_menu_prompt_still_accepts_digits() -> None:
    trace = call("11", snap=with_slot_missing(SNAP, "s-sales"))
    sales = [s for s in trace.steps if s.slot_id == "s-sales"]
    assert sales[0].audio == "missing"
    assert trace.disposition == "answered"


def test_a_slot_reference_that_does_not_exist_is_treated_as_missing() -> None:
    snap = replace(SNAP, slots=tuple(s for s in SNAP.slots if s.slot_id != "s-main"))
    trace = call("11", snap=snap)
    main = [s for s in trace.steps if s.slot_id == "s-main"]
    assert main[0].audio == "missing" and main[0].slot_name == ""
    assert trace.disposition == "answered"


def test_menu_without_prompt_slot_plays_the_fallback_tone() -> None:
    menus = tuple(replace(m, prompt_slot=None) for m in SNAP.ivr_menus)
    trace = call("1", snap=replace(SNAP, ivr_menus=menus))
    assert [s.reason for s in trace.steps if s.kind == "tone"][:2] == ["fallback", "fallback"]


def test_unknown_menu_is_unreachable_not_a_crash() -> None:
    numbers = (NumberRoute(MAIN_NUMBER, ToIvr("nope")),)
    trace = call(snap=replace(SNAP, numbers=numbers))
    assert trace.disposition == "unreachable"
    assert prompts(trace) == ["s-unavailable"]


def test_unknown_queue_is_unreachable() -> None:
    numbers = (NumberRoute(MAIN_NUMBER, ToQueue("nope")),)
    assert call(snap=replace(SNAP, numbers=numbers)).disposition == "unreachable"


def test_internal_call_between_extensions() -> None:
    trace = call(to="202", caller="201")
    assert trace.final_state.direction == "internal"
    assert trace.disposition == "answered"


def test_unknown_number_ends_the_call_in_the_engine() -> None:
    state, actions = step(SNAP, new_call("c"), Dial(CALLER, "+46811111111"))
    assert state.phase == Ended("unknown_number", "unknown_number")
    assert isinstance(actions[-1], HangUp)
    log = [a.leg for a in actions if isinstance(a, WriteCallLog)]
    assert log[0].disposition == "unknown_number" and log[0].leg == 1


def test_check_script_rejects_bad_input() -> None:
    with pytest.raises(UnknownNumber):
        check_script(SNAP, CallScript(CALLER, "+46811111111"))
    with pytest.raises(InvalidNumber):
        check_script(SNAP, CallScript("0701234567", MAIN_NUMBER))
    with pytest.raises(InvalidNumber):
        check_script(SNAP, CallScript("201", "+46 70 12"))
    check_script(SNAP, CallScript("201", "+46701234567"))  # outbound from an extension
    check_script(SNAP, CallScript(ANNA_MOBILE, "333"))


@pytest.mark.parametrize("bad", ["1a", "12 x", "A", "+", "½"])
def test_dtmf_outside_the_keypad_is_rejected(bad: str) -> None:
    with pytest.raises(InvalidDtmf) as caught:
        parse_dtmf(bad)
    assert "0-9, * and #" in caught.value.message
    with pytest.raises(InvalidDtmf):
        script_events(bad)


@pytest.mark.parametrize("bad", ["", "12", "a", "A", " "])
def test_a_dtmf_event_is_one_key(bad: str) -> None:
    with pytest.raises(InvalidDtmf):
        Dtmf(bad)


def test_parse_dtmf_accepts_spaces() -> None:
    assert parse_dtmf("1 2*#") == ("1", "2", "*", "#")


def test_events_that_mean_nothing_in_a_phase_are_ignored() -> None:
    state, _ = step(SNAP, new_call("c"), Dial(CALLER, MAIN_NUMBER))
    for event in (NoAnswer(), AudioReceived(3.0), Dial(CALLER, MAIN_NUMBER)):
        after, actions = step(SNAP, state, event)
        assert (after.phase, actions) == (state.phase, [])


def test_a_final_state_ignores_every_event() -> None:
    state, _ = step(SNAP, new_call("c"), Dial(CALLER, "+46811111111"))
    assert state.is_final
    assert step(SNAP, state, Hangup()) == (state, [])
    assert step(SNAP, state, Dtmf("1")) == (state, [])


def test_hangup_before_dial_ends_quietly() -> None:
    state, actions = step(SNAP, new_call("c"), Hangup())
    assert state.is_final and actions == []
    assert step(SNAP, new_call("c"), Dtmf("1"))[0].phase == new_call("c").phase


def test_hangup_in_a_menu_is_abandoned_and_logged() -> None:
    state, _ = step(SNAP, new_call("c"), Dial(CALLER, MAIN_NUMBER))
    state, actions = step(SNAP, state, Hangup(at=4.0))
    assert state.phase == Ended("abandoned")
    leg = next(a.leg for a in actions if isinstance(a, WriteCallLog))
    assert (leg.leg, leg.ended_at, leg.answered_at, leg.disposition) == (1, 4.0, 0.0, "abandoned")


def test_too_many_events_end_the_call() -> None:
    snap = replace(SNAP, limits=Limits(max_events=10))
    state, _ = step(snap, new_call("c"), Dial(CALLER, MAIN_NUMBER))
    for _ in range(20):
        state, actions = step(snap, state, Dtmf("*"))
        state, actions = step(snap, state, Dtmf("1"))  # sales, then back on timeout
        state, actions = step(snap, state, Timer())
        if state.is_final:
            break
    assert state.phase == Ended("step_limit", "too many events")


def test_routing_that_never_waits_is_ended_by_the_hop_limit() -> None:
    # an empty queue overflowing to itself would route forever inside one step
    queue = Queue("q-loop", "Loop", (), overflow=ToQueue("q-loop"))
    numbers = (NumberRoute(MAIN_NUMBER, ToQueue("q-loop")),)
    snap = replace(SNAP, queues=(queue,), numbers=numbers)
    state, actions = step(snap, new_call("c"), Dial(CALLER, MAIN_NUMBER))
    assert state.phase == Ended("routing_loop", "routing loop")
    assert isinstance(actions[-1], HangUp)


def test_menu_prompt_starts_the_digit_timer() -> None:
    _, actions = step(SNAP, new_call("c"), Dial(CALLER, MAIN_NUMBER))
    assert actions[-1] == StartTimer(5)


def test_the_same_snapshot_and_events_give_the_same_result() -> None:
    assert call("11", no_answer=("201",)) == call("11", no_answer=("201",))


def test_timeout_to_hangup_without_goodbye_slot() -> None:
    menu = IvrMenu("m-main", "Main", "s-main", (), timeout_destination=ToHangup())
    snap = replace(SNAP, ivr_menus=(menu,))
    trace = call(snap=snap)
    assert kinds(trace)[-2:] == ["timeout", "hangup"]
    assert trace.disposition == "hung_up"


def test_ringing_user_state_records_the_chain() -> None:
    state, _ = step(SNAP, new_call("c"), Dial(CALLER, DIRECT_NUMBER))
    assert state.phase == Ringing("201", "u-anna", ("201",), 0.0)


def test_a_slot_name_is_shown_in_the_trace() -> None:
    slots = (*SNAP.slots[1:], MessageSlot("s-welcome", "Välkommen", "welcome"))
    trace = call(snap=replace(SNAP, slots=slots))
    assert trace.steps[0].slot_name == "Välkommen"


def test_the_event_limit_closes_a_leg_in_progress() -> None:
    snap = replace(SNAP, limits=Limits(max_events=3))
    state, _ = step(snap, new_call("c"), Dial(CALLER, DIRECT_NUMBER))
    state, _ = step(snap, state, Dtmf("1"))
    state, _ = step(snap, state, Dtmf("2"))  # still ringing Anna
    state, actions = step(snap, state, Dtmf("3"))
    legs = [a.leg for a in actions if isinstance(a, WriteCallLog)]
    assert [(leg.leg, leg.disposition) for leg in legs] == [(2, "abandoned"), (1, "step_limit")]
    assert [a for a in actions if isinstance(a, HangUp)] == [HangUp("too many events")]
    assert state.phase == Ended("step_limit", "too many events")


def test_the_event_limit_before_any_dial() -> None:
    snap = replace(SNAP, limits=Limits(max_events=1))
    state, _ = step(snap, new_call("c"), Dtmf("1"))
    state, actions = step(snap, state, Dtmf("1"))
    assert (state.phase, actions) == (Ended("step_limit", "too many events"), [])


def test_numbers_in_a_script_are_normalised_to_e164() -> None:
    trace = call("11", to="+46 8 123 456 78", caller="+46 73-987 65 43")
    assert trace.final_state.dialled == MAIN_NUMBER
    assert trace.call_log[-1].caller == CALLER
