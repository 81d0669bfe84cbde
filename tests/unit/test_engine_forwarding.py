"""Users and forwarding: rules by kind, chains, loops and depth, the destination policy at call
time (a refused leg is logged and falls back to voicemail), and the call-log legs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pbx.engine import (
    CallScript,
    DialplanSnapshot,
    ForwardingRule,
    ForwardKind,
    FraudGuard,
    IvrMenu,
    IvrOption,
    Limits,
    NumberRoute,
    ToExtension,
    ToExternal,
    ToIvr,
    Trace,
    User,
    VoicemailBox,
    new_call,
    simulate,
    step,
)
from pbx.engine.actions import DialExternal, ForwardCall, RefuseLeg, RingUser, WriteCallLog
from pbx.engine.events import AudioReceived, Dial, Dtmf, Hangup
from pbx.engine.sample import BO_MOBILE, CALLER, DIRECT_NUMBER, sample_snapshot
from pbx.policies import DestinationPolicy

SNAP = sample_snapshot()


def users(*people: User) -> DialplanSnapshot:
    """The sample tenant with these users instead (the direct number rings 201)."""
    return replace(SNAP, users=people, queues=(), numbers=SNAP.numbers[1:2])


def person(ext: str, *rules: tuple[ForwardKind, str], voicemail: bool = True) -> User:
    forwarding = tuple(
        ForwardingRule(kind, ToExternal(to) if to.startswith("+") else ToExtension(to))
        for kind, to in rules
    )
    box = VoicemailBox(f"vm-{ext}") if voicemail else None
    return User(f"u-{ext}", ext, ext, ring_time=10, forwarding=forwarding, voicemail=box)


def call(
    snap: DialplanSnapshot,
    *,
    busy: tuple[str, ...] = (),
    no_answer: tuple[str, ...] = (),
    unavailable: tuple[str, ...] = (),
    say: float | None = 5.0,
    to: str = DIRECT_NUMBER,
    caller: str = CALLER,
) -> Trace:
    events = () if say is None else (AudioReceived(say),)
    script = CallScript(
        caller,
        to,
        events,
        busy=frozenset(busy),
        no_answer=frozenset(no_answer),
        unavailable=frozenset(unavailable),
    )
    return simulate(snap, script)


def route(trace: Trace) -> list[tuple[str, str | None]]:
    """(kind, to/reason) of the steps that say where the call went."""
    shown = {"ring", "answer", "busy", "no_answer", "unavailable", "forward", "refused"}
    shown |= {"voicemail", "deposit"}
    out = []
    for s in trace.steps:
        if s.kind in shown:
            out.append((s.kind, s.to if s.kind != "refused" else f"{s.to} {s.reason}"))
    return out


def test_answered_user() -> None:
    trace = call(users(person("201")))
    assert route(trace) == [("ring", "201"), ("answer", None)]
    assert trace.disposition == "answered"


@pytest.mark.parametrize("kind", ["busy", "no_answer", "unavailable"])
def test_each_rule_kind_forwards_on_its_own_outcome(kind: ForwardKind) -> None:
    snap = users(person("201", (kind, "202")), person("202"))
    trace = call(snap, **{kind: ("201",)})  # type: ignore[arg-type]
    assert route(trace) == [
        ("ring", "201"), (kind, None), ("forward", "202"), ("ring", "202"), ("answer", None),
    ]  # fmt: skip
    forward = next(s for s in trace.steps if s.kind == "forward")
    assert forward.reason == kind


def test_a_rule_of_another_kind_does_not_apply() -> None:
    snap = users(person("201", ("busy", "202")), person("202"))
    trace = call(snap, no_answer=("201",))
    assert route(trace)[-2:] == [("voicemail", "201"), ("deposit", "201")]


def test_unconditional_forwarding_does_not_ring_the_user() -> None:
    snap = users(person("201", ("unconditional", "202")), person("202"))
    trace = call(snap)
    assert route(trace) == [("forward", "202"), ("ring", "202"), ("answer", None)]


def test_no_rule_goes_to_voicemail_and_records_the_message() -> None:
    trace = call(users(person("201")), no_answer=("201",), say=7.5)
    assert route(trace) == [
        ("ring", "201"), ("no_answer", None), ("voicemail", "201"), ("deposit", "201"),
    ]  # fmt: skip
    assert trace.disposition == "voicemail"


def test_a_chain_of_forwards_ends_in_the_last_users_voicemail() -> None:
    snap = users(
        person("201", ("no_answer", "202")),
        person("202", ("busy", "203")),
        person("203", ("unavailable", "204")),
        person("204"),
    )
    trace = call(snap, no_answer=("201", "204"), busy=("202",), unavailable=("203",))
    rings = [to for kind, to in route(trace) if kind == "ring"]
    assert rings == ["201", "202", "203", "204"]
    assert route(trace)[-1] == ("deposit", "204")


def test_forwarding_loop_is_refused_and_falls_back_to_voicemail() -> None:
    snap = users(person("201", ("no_answer", "202")), person("202", ("no_answer", "201")))
    trace = call(snap, no_answer=("201", "202"))
    assert ("refused", "201 forwarding_loop") in route(trace)
    assert route(trace)[-2:] == [("voicemail", "202"), ("deposit", "202")]
    refused = [leg for leg in trace.call_log if leg.disposition == "refused"]
    assert refused[0].refused_reason == "forwarding_loop"


def test_unconditional_loop_never_rings_and_ends_in_voicemail() -> None:
    snap = users(person("201", ("unconditional", "202")), person("202", ("unconditional", "201")))
    trace = call(snap)
    assert [k for k, _ in route(trace)].count("ring") == 0
    assert trace.disposition == "voicemail"


def test_forwarding_to_self_is_a_loop() -> None:
    trace = call(users(person("201", ("busy", "201"))), busy=("201",))
    assert ("refused", "201 forwarding_loop") in route(trace)


def test_depth_limit_stops_a_long_chain() -> None:
    chain = [person(str(200 + n), ("unconditional", str(201 + n))) for n in range(1, 10)]
    snap = replace(users(*chain), limits=Limits(max_forward_depth=3))
    trace = call(snap)
    assert ("refused", "204 forwarding_depth") in route(trace)
    assert route(trace)[-2] == ("voicemail", "203")


def test_forward_to_an_unknown_extension_is_refused() -> None:
    trace = call(users(person("201", ("busy", "299"))), busy=("201",))
    assert ("refused", "299 unknown_extension") in route(trace)
    assert trace.disposition == "voicemail"


def test_no_voicemail_anywhere_makes_the_call_unreachable() -> None:
    snap = users(person("201", voicemail=False))
    trace = call(snap, busy=("201",))
    assert trace.disposition == "unreachable"
    assert [s.slot_id for s in trace.steps if s.kind == "prompt"] == ["s-unavailable"]


def test_fallback_uses_the_nearest_box_back_along_the_chain() -> None:
    snap = users(person("201", ("busy", "202")), person("202", voicemail=False))
    trace = call(snap, busy=("201", "202"))
    assert route(trace)[-2:] == [("voicemail", "201"), ("deposit", "201")]


# --- outside legs and the destination policy -------------------------------------------------


def test_allowed_external_forward_is_dialled_and_can_be_answered() -> None:
    trace = call(users(person("201", ("busy", "+46731234567"))), busy=("201",))
    assert route(trace)[-3:] == [
        ("forward", "+46731234567"), ("ring", "+46731234567"), ("answer", None),
    ]  # fmt: skip
    assert DialExternal("+46731234567", 10) in trace.actions
    assert trace.disposition == "answered"
    assert trace.final_state.forwarded_to == "+46731234567"


def test_external_forward_not_answered_falls_back_to_voicemail() -> None:
    trace = call(users(person("201", ("busy", BO_MOBILE))), busy=("201",), no_answer=(BO_MOBILE,))
    assert route(trace)[-2:] == [("voicemail", "201"), ("deposit", "201")]


REFUSED = [
    ("+46900123456", "premium_rate"),
    ("+46939123456", "premium_rate"),
    ("+46944123456", "premium_rate"),
    ("+882123456789", "international_network"),
    ("+883123456789", "international_network"),
    ("+18765551234", "country_not_allowed"),  # Jamaica
    ("+46752345678", "personal_number"),
    ("+4520123456", "country_not_allowed"),  # Denmark: not on the allowlist
    ("+46771123456", "shared_cost"),
    ("+46 70 12", "invalid_number"),  # malformed
]


@pytest.mark.parametrize(("number", "code"), REFUSED)
@pytest.mark.parametrize("kind", ["unconditional", "busy"])
def test_refused_destination_is_logged_and_falls_back_to_voicemail(
    number: str, code: str, kind: ForwardKind
) -> None:
    snap = users(person("201", (kind, number)))
    trace = call(snap, busy=("201",))
    assert ("refused", f"{number} {code}") in route(trace)
    assert not any(isinstance(a, DialExternal) for a in trace.actions)
    assert not any(isinstance(a, ForwardCall) and a.to == number for a in trace.actions)
    refused = [a for a in trace.actions if isinstance(a, RefuseLeg)]
    assert refused[0].reason_code == code and refused[0].message
    leg = next(leg for leg in trace.call_log if leg.disposition == "refused")
    assert (leg.callee, leg.refused_reason, leg.forwarded_from, leg.forward_kind) == (
        number, code, "201", kind,
    )  # fmt: skip
    assert leg.direction == "forwarded"
    assert trace.disposition == "voicemail"


def test_allowlisted_country_is_forwarded() -> None:
    snap = users(person("201", ("busy", "+4791234567")))
    trace = call(snap, busy=("201",))
    assert ("ring", "+4791234567") in route(trace)


def test_the_policy_of_the_snapshot_is_applied_at_call_time() -> None:
    snap = replace(
        users(person("201", ("busy", "+4791234567"))), policy=DestinationPolicy("SE", frozenset())
    )
    trace = call(snap, busy=("201",))
    assert ("refused", "+4791234567 country_not_allowed") in route(trace)


def test_outbound_call_from_an_extension_is_checked() -> None:
    snap = users(person("201"))
    ok = call(snap, caller="201", to="+46701234567", say=None)
    assert route(ok) == [("ring", "+46701234567"), ("answer", None)]
    assert ok.final_state.direction == "outbound"
    refused = call(snap, caller="201", to="+46900123456", say=None)
    assert refused.disposition == "refused"
    assert route(refused) == [("refused", "+46900123456 premium_rate")]
    assert refused.call_log[0].refused_reason == "premium_rate"


def test_ivr_option_to_an_outside_number_is_checked_too() -> None:
    menu = IvrMenu("m", "M", None, (IvrOption("1", ToExternal("+46900123456")),))
    numbers = (NumberRoute("+46812345678", ToIvr("m")),)
    snap = replace(SNAP, ivr_menus=(menu,), numbers=numbers)
    script = CallScript(CALLER, "+46812345678", (Dtmf("1"),))
    trace = simulate(snap, script)
    assert ("refused", "+46900123456 premium_rate") in route(trace)
    assert trace.disposition == "unreachable"


# --- call-log legs ----------------------------------------------------------------------------


def test_every_leg_writes_a_call_log_row() -> None:
    snap = users(person("201", ("no_answer", "202")), person("202", ("busy", "+46900123456")))
    trace = call(snap, no_answer=("201",), busy=("202",), say=9.0)
    legs = {leg.leg: leg for leg in trace.call_log}
    assert sorted(legs) == [1, 2, 3, 4, 5]
    first, anna, bo, refused, voicemail = (legs[n] for n in (1, 2, 3, 4, 5))
    assert (first.direction, first.caller, first.callee, first.disposition) == (
        "inbound", CALLER, DIRECT_NUMBER, "voicemail",
    )  # fmt: skip
    assert first.forwarded_to == "202" and first.tenant_id == SNAP.tenant_id
    assert (anna.callee, anna.disposition, anna.forwarded_to, anna.user_id) == (
        "201", "no_answer", "202", "u-201",
    )  # fmt: skip
    assert (anna.started_at, anna.ended_at) == (0.0, 10.0)
    assert (bo.direction, bo.forwarded_from, bo.forward_kind, bo.disposition) == (
        "forwarded", "201", "no_answer", "busy",
    )  # fmt: skip
    assert (refused.disposition, refused.refused_reason) == ("refused", "premium_rate")
    assert (voicemail.callee, voicemail.disposition) == ("202", "voicemail")
    assert first.ended_at == voicemail.ended_at == 19.0
    assert {leg.call_id for leg in trace.call_log} == {"sim-1"}


def test_answered_leg_has_its_answer_time() -> None:
    trace = call(users(person("201")), say=None)
    ring = next(leg for leg in trace.call_log if leg.leg == 2)
    assert (ring.disposition, ring.answered_at, ring.ended_at) == ("answered", 3.0, 63.0)


def test_caller_hanging_up_while_it_rings_is_abandoned() -> None:
    snap = users(person("201"))
    state, actions = step(snap, new_call("c"), Dial(CALLER, DIRECT_NUMBER))
    assert isinstance(actions[-1], RingUser)
    state, actions = step(snap, state, Hangup(at=4.0))
    legs = sorted((a.leg for a in actions if isinstance(a, WriteCallLog)), key=lambda leg: leg.leg)
    assert [(leg.leg, leg.disposition) for leg in legs] == [(1, "abandoned"), (2, "abandoned")]


# --- fraud caps (SECURITY.md item 22): the service sets them, the engine enforces them --------


def test_suspended_forwarding_refuses_outside_legs_of_that_user() -> None:
    snap = users(person("201", ("busy", "+46731234567")), person("202", ("busy", "+46731234567")))
    snap = replace(snap, guard=FraudGuard(suspended_forwarding=frozenset({"201"})))
    trace = call(snap, busy=("201",))
    assert ("refused", "+46731234567 forwarding_suspended") in route(trace)
    assert trace.disposition == "voicemail"
    other = call(
        replace(snap, numbers=(NumberRoute(DIRECT_NUMBER, ToExtension("202")),)), busy=("202",)
    )
    assert ("ring", "+46731234567") in route(other)


def test_crossed_cost_cap_blocks_international_but_not_domestic_legs() -> None:
    snap = users(person("201", ("busy", "+4791234567")), person("202", ("busy", "+46731234567")))
    snap = replace(snap, guard=FraudGuard(international_blocked=True))
    trace = call(snap, busy=("201",))
    assert ("refused", "+4791234567 cost_cap") in route(trace)
    domestic = call(
        replace(snap, numbers=(NumberRoute(DIRECT_NUMBER, ToExtension("202")),)), busy=("202",)
    )
    assert ("ring", "+46731234567") in route(domestic)


def test_outbound_call_not_answered_ends_with_the_outcome() -> None:
    trace = call(
        users(person("201")), caller="201", to="+46701234567", say=None, busy=("+46701234567",)
    )
    assert trace.disposition == "busy"
    assert [leg.disposition for leg in trace.call_log] == ["busy", "busy"]
