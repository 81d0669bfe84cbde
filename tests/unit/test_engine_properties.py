"""Property tests: on any generated dialplan, any sequence of events ends the call within a
bounded number of steps, never raises, and never rings a destination the policy refuses."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbx.engine import (
    CallScript,
    Destination,
    DialplanSnapshot,
    ForwardingRule,
    IvrMenu,
    IvrOption,
    Limits,
    MessageSlot,
    NumberRoute,
    Queue,
    SystemPrompts,
    ToExtension,
    ToExternal,
    ToHangup,
    ToIvr,
    ToQueue,
    ToVoicemail,
    User,
    VoicemailBox,
    new_call,
    simulate,
    start_callback,
    step,
    validate_dialplan,
)
from pbx.engine.actions import (
    Action,
    DialExternal,
    HangUp,
    RefuseLeg,
    RingUser,
    VerifyPin,
    WriteCallLog,
)
from pbx.engine.events import (
    Answer,
    AudioReceived,
    Busy,
    Dial,
    Dtmf,
    Event,
    Hangup,
    NoAnswer,
    PinChecked,
    Timer,
    Unavailable,
)
from pbx.engine.states import CallState
from pbx.policies import DestinationPolicy, evaluate

EXTS = ("201", "202", "203", "204")
SLOTS = ("s0", "s1", "s2", "s3", "s4")
MENUS = ("m0", "m1", "m2")
QUEUES = ("q0", "q1")
NUMBERS = ("+46812345670", "+46812345671", "+46812345672")
ALLOWED = ("+46701234567", "+46812345000", "+4791234567", "+46200123456")
REFUSED = (
    "+46900123456", "+46939123456", "+46944123456", "+882123456789", "+883123456789",
    "+18765551234", "+46752345678", "+4520123456", "+46771123456", "+46 70 12", "garbage",
)  # fmt: skip
CALLERS = ("+46739876543", "+46701234567", "201", "202", "+4791234567")
MAX_EVENTS = 40
ENGINE_REFUSALS = {"forwarding_loop", "forwarding_depth", "unknown_extension"}
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYS = "0123456789#"
slot_ids = st.one_of(st.none(), st.sampled_from(SLOTS))
PROMPT_SETS = (
    SystemPrompts(),
    SystemPrompts(*(SLOTS[n % 5] for n in range(16))),
    SystemPrompts(*(SLOTS[n % 5] if n % 3 else None for n in range(16))),
    SystemPrompts(*(f"gone-{n}" for n in range(16))),  # dangling (invalid snapshots only)
)


def all_destinations(externals: tuple[str, ...]) -> list[Destination]:
    return [
        *(ToExtension(e) for e in EXTS),
        *(ToExternal(n) for n in externals),
        *(ToIvr(m) for m in MENUS),
        *(ToQueue(q) for q in QUEUES),
        *(ToVoicemail(e) for e in EXTS),
        ToHangup(),
        ToHangup(SLOTS[0]),
    ]


def pick(draw: st.DrawFn, items: list[Destination]) -> Destination:
    return items[draw(st.integers(0, len(items) - 1))]


@st.composite
def users(draw: st.DrawFn, externals: tuple[str, ...], acyclic: bool) -> tuple[User, ...]:
    """Valid (acyclic) users forward unconditionally only to later extensions, never to
    themselves; others may forward anywhere, refused numbers included."""
    people = []
    for index, ext in enumerate(EXTS):
        rules = []
        for kind in ("unconditional", "busy", "no_answer", "unavailable"):
            allowed = EXTS[index + 1 :] if kind == "unconditional" else EXTS
            exts = [e for e in (allowed if acyclic else EXTS) if e != ext or not acyclic]
            choices = [*(ToExtension(e) for e in exts), *(ToExternal(n) for n in externals)]
            if draw(st.booleans()):
                target = choices[draw(st.integers(0, len(choices) - 1))]
                rules.append(ForwardingRule(kind, target))  # type: ignore[arg-type]
        box = None
        if draw(st.booleans()):
            box = VoicemailBox(f"vm-{ext}", draw(slot_ids), tuple(SLOTS[: draw(st.integers(0, 2))]))
        ring = draw(st.integers(1, 30))
        people.append(User(f"u{ext}", ext, ext, f"+4670000{ext}", ring, tuple(rules), box))
    return tuple(people)


@st.composite
def snapshots(draw: st.DrawFn, valid: bool = True) -> DialplanSnapshot:
    externals = ALLOWED if valid else ALLOWED + REFUSED
    people = draw(users(externals, acyclic=valid))
    dests = all_destinations(externals)
    if valid:  # voicemail only to users who have a box
        boxes = {u.ext for u in people if u.voicemail}
        dests = [d for d in dests if not isinstance(d, ToVoicemail) or d.ext in boxes]
    menus = tuple(
        IvrMenu(
            menu_id,
            menu_id,
            draw(slot_ids),
            tuple(IvrOption(d, pick(draw, dests)) for d in draw(st.sets(st.sampled_from(KEYS)))),
            draw(st.integers(1, 10)),
            pick(draw, dests),
            draw(slot_ids),
            draw(st.integers(0, 3)),
        )
        for menu_id in MENUS
    )
    queues = tuple(
        Queue(q, q, EXTS[draw(st.integers(0, 3)) :], draw(slot_ids), draw(st.integers(1, 60)),
              pick(draw, dests))
        for q in QUEUES
    )  # fmt: skip
    numbers = tuple(NumberRoute(n, pick(draw, dests), draw(slot_ids)) for n in NUMBERS)
    kept = len(SLOTS) if valid else draw(st.integers(0, len(SLOTS)))  # others: dangling
    missing = draw(st.sets(st.sampled_from(SLOTS)))
    slots = tuple(MessageSlot(s, s, "system", s not in missing) for s in SLOTS[:kept])
    return DialplanSnapshot(
        "t",
        numbers,
        people,
        menus,
        queues,
        slots,
        DestinationPolicy("SE", frozenset({"NO"})),
        draw(st.sampled_from(PROMPT_SETS[:3] if valid else PROMPT_SETS)),
        limits=Limits(
            max_forward_depth=draw(st.integers(4 if valid else 1, 6)), max_events=MAX_EVENTS
        ),
    )


DIALLED = (*NUMBERS, *EXTS, "333", "+46900123456", "x")
events: st.SearchStrategy[Event] = st.one_of(
    st.builds(Dial, st.sampled_from(CALLERS), st.sampled_from(DIALLED)),
    st.builds(Answer), st.builds(Busy), st.builds(NoAnswer), st.builds(Unavailable),
    st.builds(Dtmf, st.sampled_from("0123456789*#")),
    st.builds(AudioReceived, st.floats(0, 30), st.booleans()),
    st.builds(PinChecked, st.booleans()),
    st.builds(Timer),
)  # fmt: skip


def check_batch(snap: DialplanSnapshot, actions: list[Action], legs: set[int]) -> None:
    """Invariants of every step's actions."""
    for index, action in enumerate(actions):
        if isinstance(action, DialExternal):
            assert evaluate(action.e164, snap.policy) is None, action
        if isinstance(action, RingUser | DialExternal | VerifyPin):
            assert index == len(actions) - 1, actions  # a question ends its batch
        if isinstance(action, WriteCallLog):
            assert action.leg.leg not in legs, action
            legs.add(action.leg.leg)


def run(snap: DialplanSnapshot, state: CallState, sequence: list[Event]) -> CallState:
    legs: set[int] = set()
    clock = 0.0
    for event in sequence:
        clock += 1.0
        state, actions = step(snap, state, replace(event, at=clock))
        check_batch(snap, actions, legs)
        if state.is_final:
            assert 1 in legs or not actions  # leg 1 is written when a dialled call ends
            assert not actions or isinstance(actions[-1], HangUp)
            assert step(snap, state, Hangup()) == (state, [])
    return state


@FAST
@given(snapshots(), st.lists(events, max_size=30))
def test_valid_snapshot_any_events_then_hangup_ends(
    snap: DialplanSnapshot, sequence: list[Event]
) -> None:
    assert validate_dialplan(snap) == ()
    state = run(snap, new_call("p"), [Dial("+46739876543", NUMBERS[0]), *sequence])
    state = run(snap, state, [Hangup()])
    assert state.is_final


@FAST
@given(snapshots(valid=False), st.lists(events, min_size=1, max_size=12))
def test_any_snapshot_endless_events_end_within_the_event_limit(
    snap: DialplanSnapshot, sequence: list[Event]
) -> None:
    endless = [Dial("201", NUMBERS[1]), *sequence * (MAX_EVENTS + 1)][: MAX_EVENTS + 1]
    assert run(snap, new_call("p"), endless).is_final


@FAST
@given(snapshots(valid=False), st.lists(events, max_size=30), st.sampled_from(("s0", "s9")),
       st.sampled_from(ALLOWED + REFUSED))  # fmt: skip
def test_callback_sessions_end_and_respect_the_policy(
    snap: DialplanSnapshot, sequence: list[Event], slot: str, to: str
) -> None:
    state, actions = start_callback(snap, "cb", to, slot)
    check_batch(snap, actions, set())
    state = run(snap, state, [*sequence, Hangup()])
    assert state.is_final


caller_events = st.lists(
    st.one_of(
        st.builds(Dtmf, st.sampled_from("0123456789*#")),
        st.builds(AudioReceived, st.floats(0, 30), st.booleans()),
        st.builds(Timer),
        st.builds(Hangup),
    ),
    max_size=15,
)


@FAST
@given(
    snapshots(valid=False),
    caller_events,
    st.sampled_from((*NUMBERS, "333", "201")),
    st.sampled_from(CALLERS),
    st.sets(st.sampled_from(EXTS + ALLOWED)),
    st.sets(st.sampled_from(EXTS + ALLOWED)),
)
def test_the_simulator_always_finishes(
    snap: DialplanSnapshot,
    script_events: list[Dtmf | AudioReceived | Timer | Hangup],
    dialled: str,
    caller: str,
    busy: set[str],
    no_answer: set[str],
) -> None:
    script = CallScript(
        caller, dialled, tuple(script_events), frozenset(busy), frozenset(no_answer)
    )
    trace = simulate(snap, script, verify_pin=lambda box, pin: pin == "1234")
    assert trace.disposition != "unfinished"
    assert trace.final_state.is_final
    rung = {s.to for s in trace.steps if s.kind == "ring"}
    assert not (rung & set(REFUSED))
    for action in trace.actions:
        if isinstance(action, RefuseLeg) and action.reason_code not in ENGINE_REFUSALS:
            refusal = evaluate(action.to, snap.policy)
            assert refusal is not None and refusal.reason_code == action.reason_code
    assert {leg.leg for leg in trace.call_log} == set(range(1, len(trace.call_log) + 1))
