"""The voicemail service number 333, key by key, as in the operator's notice:
call 333 from your mobile, 5 records a personal greeting after the tone and 0 ends it,
4 plays it, 6 deletes it (back to the default greeting); also new messages (1)."""

from __future__ import annotations

from dataclasses import replace

from pbx.engine import CallScript, DialplanSnapshot, new_call, simulate, step
from pbx.engine.actions import (
    Action,
    DeleteGreeting,
    DiscardRecording,
    MarkHeard,
    PlayMessage,
    PlayRecording,
    PlayTone,
    RecordInto,
    SaveGreeting,
    StartTimer,
    VerifyPin,
    WriteCallLog,
)
from pbx.engine.events import AudioReceived, Dial, Dtmf, Event, Hangup, PinChecked, Timer
from pbx.engine.sample import ANNA_MOBILE, BO_MOBILE, CALLER, sample_snapshot
from pbx.engine.states import (
    CallState,
    Ended,
    ServiceMailbox,
    ServiceMenu,
    ServicePin,
    ServiceRecording,
    ServiceVerifying,
)

SNAP = sample_snapshot()
MENU = PlayMessage("s-vm-menu", "Voicemail menu", True)


def slots(actions: list[Action]) -> list[str]:
    return [a.slot_id for a in actions if isinstance(a, PlayMessage)]


def dial(
    caller: str = ANNA_MOBILE, snap: DialplanSnapshot = SNAP, verified: bool = True
) -> tuple[CallState, list[Action]]:
    """A call to 333; by default from the user's verified phone (the signed-in softphone)."""
    return step(snap, new_call("c"), Dial(caller, "333", caller_verified=verified))


def feed(
    state: CallState, *events: Event, snap: DialplanSnapshot = SNAP
) -> tuple[CallState, list[Action]]:
    actions: list[Action] = []
    for event in events:
        state, actions = step(snap, state, event)
    return state, actions


def keys(text: str) -> list[Event]:
    return [Dtmf(d) for d in text]


def test_a_caller_known_only_by_the_calling_number_is_asked_for_the_pin() -> None:
    """Caller ID can be forged: the mobile's number alone does not open the mailbox."""
    for caller in (ANNA_MOBILE, "201"):
        state, actions = dial(caller, verified=False)
        assert state.phase == ServicePin("201")
        assert slots(actions) == ["s-vm-pin"]
    state, _ = feed(state, *keys("1234#"), PinChecked(True))
    assert state.phase == ServiceMenu("201")


def test_a_company_that_trusts_calling_numbers_opens_the_menu_without_pin() -> None:
    snap = replace(SNAP, service=replace(SNAP.service, trust_calling_number=True))
    state, _ = dial(verified=False, snap=snap)
    assert state.phase == ServiceMenu("201")


def test_calling_from_the_users_mobile_opens_the_menu() -> None:
    state, actions = dial()
    assert state.phase == ServiceMenu("201")
    assert actions == [MENU, StartTimer(10)]
    assert state.direction == "service"


def test_calling_from_the_users_extension_opens_the_menu() -> None:
    state, _ = dial("201")
    assert state.phase == ServiceMenu("201")


def test_key_5_records_a_greeting_after_the_tone_and_0_ends_it() -> None:
    state, actions = feed(dial()[0], Dtmf("5"))
    assert actions == [
        PlayMessage("s-vm-record", "Record after the tone", True),
        PlayTone("beep"),
        RecordInto("greeting", 1, 120, "vm-anna", "s-greet-anna"),
        StartTimer(120),
    ]
    assert isinstance(state.phase, ServiceRecording)
    state, actions = feed(state, AudioReceived(4.0), Dtmf("0"))
    assert actions[0] == SaveGreeting("vm-anna", "s-greet-anna", 1, 4.0)
    assert slots(actions) == ["s-vm-saved", "s-vm-menu"]
    assert state.phase == ServiceMenu("201", greeting="new", greeting_take=1)


def test_other_keys_do_not_end_the_greeting_recording() -> None:
    state, _ = feed(dial()[0], Dtmf("5"), AudioReceived(2.0))
    after, actions = feed(state, Dtmf("#"))
    assert (after.phase, actions) == (state.phase, [])


def test_hanging_up_while_recording_keeps_the_greeting() -> None:
    state, actions = feed(dial()[0], Dtmf("5"), AudioReceived(3.0), Hangup(at=9.0))
    assert actions[0] == SaveGreeting("vm-anna", "s-greet-anna", 1, 3.0)
    assert state.phase == Ended("service")
    leg = next(a.leg for a in actions if isinstance(a, WriteCallLog))
    assert (leg.direction, leg.callee, leg.disposition) == ("service", "333", "service")


def test_ending_a_silent_recording_saves_nothing() -> None:
    state, actions = feed(dial()[0], Dtmf("5"), AudioReceived(3.0, silent=True), Dtmf("0"))
    assert actions[0] == DiscardRecording(1)
    assert slots(actions) == ["s-vm-invalid", "s-vm-menu"]
    assert state.phase == ServiceMenu("201")


def test_key_4_plays_the_stored_greeting() -> None:
    _, actions = feed(dial()[0], Dtmf("4"))
    assert slots(actions) == ["s-greet-anna", "s-vm-menu"]


def test_key_4_when_the_stored_greeting_audio_is_missing() -> None:
    slots_ = tuple(
        replace(s, audio_ok=False) if s.slot_id == "s-greet-anna" else s for s in SNAP.slots
    )
    snap = replace(SNAP, slots=slots_)
    _, actions = feed(dial(snap=snap)[0], Dtmf("4"), snap=snap)
    assert actions[0] == PlayMessage("s-greet-anna", "Anna's greeting", False)
    assert slots(actions)[1:] == ["s-vm-no-greeting", "s-vm-menu"]


def test_key_4_after_recording_plays_the_new_take() -> None:
    state, _ = feed(dial()[0], Dtmf("5"), AudioReceived(4.0), Dtmf("0"))
    _, actions = feed(state, Dtmf("4"))
    assert actions[0] == PlayRecording(1)


def test_repeat_3_and_4_until_satisfied() -> None:
    state, _ = feed(dial()[0], Dtmf("5"), AudioReceived(4.0), Dtmf("0"), Dtmf("4"))
    state, actions = feed(state, Dtmf("5"))
    assert actions[2] == RecordInto("greeting", 2, 120, "vm-anna", "s-greet-anna")
    state, actions = feed(state, AudioReceived(3.0), Dtmf("0"), Dtmf("4"))
    assert actions[0] == PlayRecording(2)


def test_key_6_deletes_the_greeting_and_4_then_plays_the_default() -> None:
    state, actions = feed(dial()[0], Dtmf("6"))
    assert actions[0] == DeleteGreeting("vm-anna", "s-greet-anna")
    assert slots(actions) == ["s-vm-deleted", "s-vm-menu"]
    _, actions = feed(state, Dtmf("4"))
    assert slots(actions) == ["s-vm-no-greeting", "s-default-greeting", "s-vm-menu"]


def test_key_4_without_a_personal_greeting_plays_the_default() -> None:
    _, actions = feed(dial(BO_MOBILE)[0], Dtmf("4"))
    assert slots(actions) == ["s-vm-no-greeting", "s-default-greeting", "s-vm-menu"]


def test_key_1_plays_new_messages_once() -> None:
    state, actions = feed(dial()[0], Dtmf("1"))
    assert slots(actions) == ["s-msg-1", "s-msg-2", "s-vm-menu"]
    assert MarkHeard("vm-anna", ("s-msg-1", "s-msg-2")) in actions
    _, actions = feed(state, Dtmf("1"))
    assert slots(actions) == ["s-vm-no-messages", "s-vm-menu"]


def test_star_repeats_and_invalid_keys_are_limited() -> None:
    state, actions = feed(dial()[0], Dtmf("*"))
    assert actions == [MENU, StartTimer(10)]
    state, actions = feed(state, Dtmf("8"))
    assert slots(actions) == ["s-vm-invalid", "s-vm-menu"]
    state, actions = feed(state, Dtmf("#"), Dtmf("9"))
    assert state.phase == Ended("service")
    assert slots(actions) == ["s-goodbye"]


def test_silence_at_the_menu_repeats_it_then_hangs_up() -> None:
    state, actions = feed(dial()[0], Timer())
    assert actions == [MENU, StartTimer(10)]
    state, _ = feed(state, Timer(), Timer())
    assert state.is_final


def test_unknown_caller_keys_extension_and_pin() -> None:
    state, actions = dial(CALLER)
    assert state.phase == ServiceMailbox()
    assert slots(actions) == ["s-vm-mailbox"]
    state, actions = feed(state, *keys("201#"))
    assert state.phase == ServicePin("201")
    assert slots(actions) == ["s-vm-pin"]
    state, actions = feed(state, *keys("1234#"))
    assert actions == [VerifyPin("201", "vm-anna", "1234")]
    assert state.phase == ServiceVerifying("201", 0)
    state, actions = feed(state, PinChecked(True))
    assert state.phase == ServiceMenu("201")


def test_wrong_pins_are_limited() -> None:
    state, _ = feed(dial(CALLER)[0], *keys("201#"))
    for attempt in range(2):
        state, _ = feed(state, *keys("0000#"), PinChecked(False))
        assert state.phase == ServicePin("201", "", attempt + 1)
    state, actions = feed(state, *keys("0000#"), PinChecked(False))
    assert state.phase == Ended("pin_failed")


def test_unknown_mailbox_is_asked_again_then_refused() -> None:
    state, actions = feed(dial(CALLER)[0], *keys("299#"))
    assert slots(actions) == ["s-vm-invalid", "s-vm-mailbox"]
    assert state.phase == ServiceMailbox("", 1)
    state, _ = feed(state, *keys("203#"))  # Cecilia has no voicemail box
    state, _ = feed(state, Timer())
    assert state.phase == Ended("service_failed")


def test_star_at_the_pin_prompt_counts_as_a_wrong_entry() -> None:
    state, _ = feed(dial(CALLER)[0], *keys("201#12*"))
    assert state.phase == ServicePin("201", "", 1)


def test_hangup_during_identification() -> None:
    for events in (keys(""), keys("20"), keys("201#12"), [*keys("201#12#")]):
        state, _ = feed(dial(CALLER)[0], *events, Hangup())
        assert state.phase == Ended("abandoned")


def test_the_pin_never_shows_in_a_trace() -> None:
    script = CallScript(CALLER, "333", tuple(keys("201#4321#4")))
    trace = simulate(SNAP, script, verify_pin=lambda box, pin: (box, pin) == ("vm-anna", "4321"))
    digits = [s.digit for s in trace.steps if s.kind == "dtmf"]
    assert digits == ["2", "0", "1", "#", "•", "•", "•", "•", "#", "4"]
    assert "4321" not in repr(trace.steps)
    assert [s.slot_id for s in trace.steps if s.kind == "prompt"][:4] == [
        "s-vm-mailbox", "s-vm-pin", "s-vm-menu", "s-greet-anna",
    ]  # fmt: skip


def test_simulated_333_session_from_the_mobile() -> None:
    snap = replace(SNAP, service=replace(SNAP.service, trust_calling_number=True))
    events = (Dtmf("5"), AudioReceived(6.0), Dtmf("0"), Dtmf("4"))
    trace = simulate(snap, CallScript(ANNA_MOBILE, "333", events))
    kinds = [s.kind for s in trace.steps]
    assert kinds[:8] == [
        "prompt", "dtmf", "prompt", "tone", "record", "audio", "dtmf", "greeting_saved",
    ]  # fmt: skip
    assert "playback" in kinds
    assert trace.disposition == "service"


def test_a_tenant_can_require_the_pin_even_from_the_users_mobile() -> None:
    snap = replace(SNAP, service=replace(SNAP.service, require_pin=True))
    state, actions = dial(snap=snap)
    assert state.phase == ServicePin("201")
    assert slots(actions) == ["s-vm-pin"]
    state, _ = feed(state, *keys("1234#"), PinChecked(True), snap=snap)
    assert state.phase == ServiceMenu("201")
