"""Save-time validation of a dialplan (duplicate digits, dangling references, forwarding
loops, refused destinations) and the JSON shape of a trace."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from pbx.engine import (
    CallScript,
    DialplanSnapshot,
    ForwardingRule,
    InvalidDialplan,
    IvrMenu,
    IvrOption,
    Limits,
    NumberRoute,
    Queue,
    SystemPrompts,
    ToExtension,
    ToExternal,
    ToHangup,
    ToIvr,
    ToVoicemail,
    User,
    check_dialplan,
    script_events,
    simulate,
    validate_dialplan,
)
from pbx.engine.sample import CALLER, MAIN_NUMBER, sample_snapshot
from pbx.engine.states import CallState

SNAP = sample_snapshot()


def codes(snap: DialplanSnapshot) -> list[tuple[str, str]]:
    return [(p.code, p.where) for p in validate_dialplan(snap)]


def with_user(snap: DialplanSnapshot, user: User) -> DialplanSnapshot:
    return replace(snap, users=(*[u for u in snap.users if u.ext != user.ext], user))


def test_the_sample_dialplan_is_valid() -> None:
    assert validate_dialplan(SNAP) == ()
    check_dialplan(SNAP)


def test_duplicate_ids_and_digits() -> None:
    menu = IvrMenu(
        "m-main", "Dup", "s-main", (IvrOption("1", ToHangup()), IvrOption("1", ToHangup()))
    )
    snap = replace(SNAP, ivr_menus=(*SNAP.ivr_menus, menu), users=(*SNAP.users, SNAP.users[0]))
    found = codes(snap)
    assert ("duplicate_id", "ivr menu m-main") in found
    assert ("duplicate_id", "extension 201") in found


def test_duplicate_ivr_digit_is_reported_with_its_own_code() -> None:
    menu = IvrMenu("m", "M", None, (IvrOption("1", ToHangup()), IvrOption("1", ToHangup())))
    assert ("duplicate_digit", "ivr m option 1") in codes(replace(SNAP, ivr_menus=(menu,)))


@pytest.mark.parametrize("digit", ["*", "a", "12", ""])
def test_invalid_ivr_digits(digit: str) -> None:
    menu = IvrMenu("m", "M", None, (IvrOption(digit, ToHangup()),))
    assert ("invalid_digit", f"ivr m option {digit}") in codes(replace(SNAP, ivr_menus=(menu,)))


def test_dangling_references() -> None:
    menu = IvrMenu(
        "m",
        "M",
        "s-nope",
        (IvrOption("1", ToExtension("299")), IvrOption("2", ToVoicemail("203"))),
        timeout_destination=ToIvr("m-nope"),
    )
    queue = Queue("q", "Q", ("298",), overflow=ToHangup("s-gone"))
    snap = replace(
        SNAP,
        ivr_menus=(menu,),
        queues=(queue,),
        numbers=(NumberRoute(MAIN_NUMBER, ToIvr("m"), "s-nothing"),),
        prompts=SystemPrompts(goodbye="s-bye"),
    )
    found = codes(snap)
    for where in (
        "ivr m option 1",
        "ivr m option 2",  # Cecilia has no box
        "ivr m timeout",
        "ivr m prompt",
        "queue q",
        "queue q overflow",
        f"number {MAIN_NUMBER} welcome",
        "system prompt goodbye",
    ):
        assert ("unknown_reference", where) in found, where


def test_forwarding_to_a_refused_destination_is_refused_at_save_time() -> None:
    anna = replace(SNAP.users[0], forwarding=(ForwardingRule("busy", ToExternal("+46900123456")),))
    found = validate_dialplan(with_user(SNAP, anna))
    assert [(p.code, p.where) for p in found] == [
        ("refused_destination", "user 201 forwarding busy")
    ]
    assert "premium_rate" in found[0].message


def test_unconditional_loops_and_depth_are_reported() -> None:
    a = User("a", "301", forwarding=(ForwardingRule("unconditional", ToExtension("302")),))
    b = User("b", "302", forwarding=(ForwardingRule("unconditional", ToExtension("301")),))
    c = User("c", "303", forwarding=(ForwardingRule("unconditional", ToExtension("301")),))
    found = codes(replace(SNAP, users=(*SNAP.users, a, b, c)))
    loops = [where for code, where in found if code == "forwarding_loop"]
    assert loops == ["user 301", "user 302"]
    chain = [
        User(str(n), str(n), forwarding=(ForwardingRule("unconditional", ToExtension(str(n + 1))),))
        for n in range(400, 410)
    ]
    found = codes(
        replace(SNAP, users=(*chain, User("410", "410")), limits=Limits(max_forward_depth=5))
    )
    assert ("forwarding_depth", "user 400") in found


def test_forwarding_to_self_and_rules_set_twice() -> None:
    me = User(
        "me",
        "305",
        forwarding=(
            ForwardingRule("busy", ToExtension("305")),
            ForwardingRule("busy", ToExtension("201")),
        ),
    )
    found = codes(with_user(SNAP, me))
    assert ("forwarding_loop", "user 305 forwarding busy") in found
    assert ("duplicate_id", "user 305 forwarding busy") in found


def test_bad_values() -> None:
    snap = replace(
        SNAP,
        users=(*SNAP.users, User("z", "399", ring_time=0)),
        ivr_menus=(IvrMenu("m", "M", None, (), timeout=0),),
        queues=(Queue("q", "Q", (), max_wait=0),),
        numbers=(NumberRoute("333", ToHangup()),),
    )
    found = codes(snap)
    for where in ("user 399", "ivr m", "queue q"):
        assert ("invalid_value", where) in found
    assert ("duplicate_id", "number 333") in found


def test_check_dialplan_raises_with_every_problem() -> None:
    menu = IvrMenu("m-sales", "M", "s-x", (IvrOption("*", ToHangup()),))
    with pytest.raises(InvalidDialplan) as caught:
        check_dialplan(replace(SNAP, ivr_menus=(SNAP.ivr_menus[0], menu)))
    assert caught.value.problems == (
        "ivr m-sales option *: a choice is one of 0-9 or # (* repeats)",
        "ivr m-sales prompt: no message slot s-x",
    )
    assert caught.value.code == "invalid_dialplan"


def test_trace_as_dict_is_json_ready() -> None:
    script = CallScript(
        CALLER, MAIN_NUMBER, script_events("11", 8.0), no_answer=frozenset({"201", "202"})
    )
    data = simulate(SNAP, script, call_id="call-42").as_dict()
    text = json.dumps(data)
    assert json.loads(text)["disposition"] == "voicemail"
    assert data["call_id"] == "call-42"
    steps = data["steps"]
    assert isinstance(steps, list)
    assert steps[0] == {
        "kind": "prompt", "at": 0.0, "slot_id": "s-welcome", "slot_name": "Welcome", "audio": "ok",
    }  # fmt: skip
    legs = data["call_log"]
    assert isinstance(legs, list) and {leg["leg"] for leg in legs} == {1, 2, 3, 4}


def test_call_state_field_order_is_what_its_fast_copies_assume() -> None:
    assert CallState._fields[:8] == (
        "call_id", "phase", "caller", "dialled", "direction", "at", "events", "next_leg",
    )  # fmt: skip
    state = CallState("c", caller="x").ticked(3.0).leg_written()
    assert (state.at, state.events, state.next_leg, state.caller) == (3.0, 1, 3, "x")
