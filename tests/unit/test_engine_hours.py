"""Opening hours in the engine: a number or an IVR key routes by the call's local start
time (given as data), the closed branch plays its message first, and the trace says which
branch was taken and why."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from pbx.engine import (
    CallScript,
    DialplanSnapshot,
    MessageSlot,
    NumberRoute,
    ToExtension,
    ToVoicemail,
    Trace,
    script_events,
    simulate,
)
from pbx.engine.dialplan import IvrOption, Schedule, ToHours
from pbx.engine.events import Dial, Dtmf
from pbx.engine.sample import CALLER, DIRECT_NUMBER, MAIN_NUMBER, sample_snapshot
from pbx.engine.states import new_call
from pbx.engine.step import step
from pbx.engine.validation import validate_dialplan
from pbx.policies.opening_hours import OpeningHours, parse_day

OFFICE = OpeningHours(weekly=tuple(i for d in range(5) for i in parse_day(d, "08:00-17:00")))
CLOSED = MessageSlot("s-closed", "Stängt", "welcome")
BY_HOURS = ToHours("company", ToExtension("201"), ToVoicemail("204"), "s-closed")


def snapshot() -> DialplanSnapshot:
    base = sample_snapshot()
    numbers = tuple(
        replace(n, destination=BY_HOURS) if n.e164 == DIRECT_NUMBER else n for n in base.numbers
    )
    return replace(
        base,
        numbers=numbers,
        slots=(*base.slots, CLOSED),
        schedules=(Schedule("company", "company", OFFICE),),
    )


def call(at: datetime | None, dialled: str = DIRECT_NUMBER, dtmf: str = "") -> Trace:
    script = CallScript(CALLER, dialled, events=script_events(dtmf), local_time=at)
    return simulate(snapshot(), script)


def test_open_branch_within_hours() -> None:
    trace = call(datetime(2025, 3, 3, 10, 0))
    hours = [s for s in trace.steps if s.kind == "hours"]
    assert [(s.to, s.reason, s.detail) for s in hours] == [("open", "within_hours", "08:00–17:00")]
    assert ("ring", "201") in [(s.kind, s.to) for s in trace.steps]
    assert "s-closed" not in [s.slot_id for s in trace.steps]


def test_closed_branch_plays_stangt_then_voicemail() -> None:
    trace = call(datetime(2025, 3, 8, 10, 0))  # Saturday
    kinds = [(s.kind, s.to or s.slot_id) for s in trace.steps]
    assert kinds[0] == ("hours", "closed")
    assert trace.steps[0].reason == "outside_hours"
    assert kinds[1] == ("prompt", "s-closed")
    assert ("voicemail", "204") in kinds
    assert "ring" not in [k for k, _ in kinds]


def test_julafton_is_closed_and_named_in_the_trace() -> None:
    trace = call(datetime(2025, 12, 24, 10, 0))  # a Wednesday
    step0 = trace.steps[0]
    assert (step0.to, step0.reason, step0.detail) == ("closed", "holiday", "Julafton")


def test_stockholm_daylight_saving_is_the_drivers_business_the_engine_reads_wall_time() -> None:
    # 07:30 local on the first Monday of summer time is still closed, 08:00 is open
    assert call(datetime(2025, 3, 31, 7, 59)).steps[0].to == "closed"
    assert call(datetime(2025, 3, 31, 8, 0)).steps[0].to == "open"


def test_the_time_is_remembered_for_an_ivr_key_pressed_later() -> None:
    snap = snapshot()
    menu = snap.ivr_menus[0]
    options = tuple(IvrOption("3", BY_HOURS) if o.digit == "3" else o for o in menu.options)
    snap = replace(snap, ivr_menus=(replace(menu, options=options), *snap.ivr_menus[1:]))
    state, _ = step(
        snap, new_call("c"), Dial(CALLER, MAIN_NUMBER, local_time=datetime(2025, 3, 8, 12))
    )
    state, actions = step(snap, state, Dtmf("3", at=2.0))
    assert [type(a).__name__ for a in actions][:2] == ["HoursChecked", "PlayMessage"]


def test_no_time_given_routes_open_and_says_so() -> None:
    trace = call(None)
    assert (trace.steps[0].to, trace.steps[0].reason) == ("open", "no_time")


def test_validation_names_unknown_schedules_and_slots() -> None:
    snap = replace(snapshot(), schedules=())
    problems = validate_dialplan(snap)
    assert any("no opening hours company" in p.message for p in problems)
    assert validate_dialplan(snapshot()) == ()


def test_number_route_by_hours_is_a_destination_like_others() -> None:
    route = NumberRoute("+46812345600", BY_HOURS)
    assert route.destination.open == ToExtension("201")
