"""The voicemail service number (333): identify the mailbox by the calling number (mobile or
extension; the PIN too unless the caller is verified or the company trusts calling numbers),
else by extension + PIN; then the menu of the operator's notice:
5 record a personal greeting after the tone (0 ends it; hanging up keeps it),
4 play the greeting, 6 delete it (back to the default greeting), 1 listen to new messages,
* repeat the menu. Storage is never touched: the engine returns actions."""

from __future__ import annotations

from dataclasses import replace

from pbx.engine.actions import (
    Action,
    DeleteGreeting,
    DiscardRecording,
    MarkHeard,
    PlayRecording,
    RecordInto,
    SaveGreeting,
    StartTimer,
    VerifyPin,
)
from pbx.engine.common import BEEP, Result, answered, finish, play
from pbx.engine.dialplan import DialplanSnapshot, User, VoicemailBox
from pbx.engine.events import AudioReceived, Dtmf, Event, Hangup, PinChecked, Timer
from pbx.engine.states import (
    CallState,
    ServiceMailbox,
    ServiceMenu,
    ServicePin,
    ServiceRecording,
    ServiceVerifying,
)

MENU_TIMEOUT = 10
MAX_KEYED = 16  # digits of an extension or PIN before the entry counts as invalid


def start_service(snap: DialplanSnapshot, st: CallState, verified: bool = False) -> Result:
    """Open the caller's own mailbox; the PIN is asked of a caller known only by a calling
    number (forgeable) unless the company trusts calling numbers (see `ServiceConfig`)."""
    st = answered(st)
    user = snap.mobile_index.get(st.caller) or snap.user_index.get(st.caller)
    if user is not None and user.voicemail is not None:
        trusted = verified or snap.service.trust_calling_number
        if snap.service.require_pin or not trusted:
            return st.moved(ServicePin(user.ext)), _ask(snap, snap.prompts.vm_enter_pin)
        return _menu(snap, st, ServiceMenu(user.ext))
    return st.moved(ServiceMailbox()), _ask(snap, snap.prompts.vm_enter_mailbox)


def _ask(snap: DialplanSnapshot, slot_id: str | None) -> list[Action]:
    return [*play(snap, slot_id, required=True), StartTimer(MENU_TIMEOUT)]


def _box(snap: DialplanSnapshot, ext: str) -> tuple[User, VoicemailBox]:
    user = snap.user_index[ext]
    assert user.voicemail is not None
    return user, user.voicemail


def _give_up(snap: DialplanSnapshot, st: CallState, disposition: str) -> Result:
    return finish(snap, st, disposition, "", play(snap, snap.prompts.goodbye))


def on_mailbox(snap: DialplanSnapshot, st: CallState, event: Event) -> Result:
    phase = st.phase
    assert isinstance(phase, ServiceMailbox)
    if isinstance(event, Hangup):
        return finish(snap, st, "abandoned")
    if isinstance(event, Dtmf) and event.digit not in "#*" and len(phase.digits) < MAX_KEYED:
        return st.moved(ServiceMailbox(phase.digits + event.digit, phase.attempts)), []
    if not isinstance(event, Dtmf | Timer):
        return st, []
    user = snap.user_index.get(phase.digits)
    if isinstance(event, Dtmf) and event.digit == "#" and user and user.voicemail:
        return st.moved(ServicePin(user.ext)), _ask(snap, snap.prompts.vm_enter_pin)
    attempts = phase.attempts + 1
    if attempts >= snap.service.max_attempts:
        return _give_up(snap, st, "service_failed")
    actions = play(snap, snap.prompts.vm_invalid) if isinstance(event, Dtmf) else []
    actions += _ask(snap, snap.prompts.vm_enter_mailbox)
    return st.moved(ServiceMailbox("", attempts)), actions


def on_pin(snap: DialplanSnapshot, st: CallState, event: Event) -> Result:
    phase = st.phase
    assert isinstance(phase, ServicePin)
    if isinstance(event, Hangup):
        return finish(snap, st, "abandoned")
    if isinstance(event, Dtmf) and event.digit == "#":
        _, box = _box(snap, phase.ext)
        verify = VerifyPin(phase.ext, box.box_id, phase.digits)
        return st.moved(ServiceVerifying(phase.ext, phase.attempts)), [verify]
    if isinstance(event, Dtmf) and event.digit != "*" and len(phase.digits) < MAX_KEYED:
        return st.moved(replace(phase, digits=phase.digits + event.digit)), []
    if isinstance(event, Dtmf | Timer):
        return _wrong_pin(snap, st, phase.ext, phase.attempts)
    return st, []


def on_verifying(snap: DialplanSnapshot, st: CallState, event: Event) -> Result:
    phase = st.phase
    assert isinstance(phase, ServiceVerifying)
    if isinstance(event, Hangup):
        return finish(snap, st, "abandoned")
    if not isinstance(event, PinChecked):
        return st, []
    if event.ok:
        return _menu(snap, st, ServiceMenu(phase.ext))
    return _wrong_pin(snap, st, phase.ext, phase.attempts)


def _wrong_pin(snap: DialplanSnapshot, st: CallState, ext: str, attempts: int) -> Result:
    attempts += 1
    if attempts >= snap.service.max_attempts:
        return _give_up(snap, st, "pin_failed")
    actions = [*play(snap, snap.prompts.vm_invalid), *_ask(snap, snap.prompts.vm_enter_pin)]
    return st.moved(ServicePin(ext, "", attempts)), actions


def _menu(
    snap: DialplanSnapshot, st: CallState, menu: ServiceMenu, before: list[Action] | None = None
) -> Result:
    actions = [*(before or []), *_ask(snap, snap.prompts.vm_menu)]
    return st.moved(menu), actions


def on_menu(snap: DialplanSnapshot, st: CallState, event: Event) -> Result:
    menu = st.phase
    assert isinstance(menu, ServiceMenu)
    if isinstance(event, Hangup):
        return finish(snap, st, "service")
    if isinstance(event, Timer):
        return _invalid(snap, st, menu, spoken=False)
    if not isinstance(event, Dtmf):
        return st, []
    if event.digit == "5":
        return _record(snap, st, menu)
    if event.digit == "4":
        return _menu(snap, st, replace(menu, attempts=0), _greeting(snap, menu))
    if event.digit == "6":
        return _delete(snap, st, menu)
    if event.digit == "1":
        return _messages(snap, st, menu)
    if event.digit == "*":
        return _menu(snap, st, menu)
    return _invalid(snap, st, menu, spoken=True)


def _invalid(snap: DialplanSnapshot, st: CallState, menu: ServiceMenu, spoken: bool) -> Result:
    attempts = menu.attempts + 1
    if attempts >= snap.service.max_attempts:
        return _give_up(snap, st, "service")
    before = play(snap, snap.prompts.vm_invalid) if spoken else []
    return _menu(snap, st, replace(menu, attempts=attempts), before)


def _record(snap: DialplanSnapshot, st: CallState, menu: ServiceMenu) -> Result:
    _, box = _box(snap, menu.ext)
    take = st.takes + 1
    seconds = snap.service.max_recording
    actions = play(snap, snap.prompts.vm_record_after_tone)
    actions += [
        BEEP,
        RecordInto("greeting", take, seconds, box.box_id, box.greeting_slot),
        StartTimer(seconds),
    ]
    phase = ServiceRecording(replace(menu, attempts=0), take)
    return st.evolve(phase=phase, takes=take), actions


def _greeting(snap: DialplanSnapshot, menu: ServiceMenu) -> list[Action]:
    """What key 4 plays: the greeting recorded in this call, the stored one, or (none or
    deleted) a notice followed by the default greeting."""
    _, box = _box(snap, menu.ext)
    if menu.greeting == "new":
        return [PlayRecording(menu.greeting_take)]
    if menu.greeting == "stored" and box.greeting_slot is not None:
        return play(snap, box.greeting_slot, snap.prompts.vm_no_greeting, required=True)
    notice = play(snap, snap.prompts.vm_no_greeting)
    return [*notice, *play(snap, snap.prompts.default_greeting, required=True)]


def _delete(snap: DialplanSnapshot, st: CallState, menu: ServiceMenu) -> Result:
    _, box = _box(snap, menu.ext)
    actions: list[Action] = [DeleteGreeting(box.box_id, box.greeting_slot)]
    actions += play(snap, snap.prompts.vm_greeting_deleted)
    return _menu(snap, st, replace(menu, greeting="deleted", attempts=0), actions)


def _messages(snap: DialplanSnapshot, st: CallState, menu: ServiceMenu) -> Result:
    _, box = _box(snap, menu.ext)
    if menu.heard or not box.new_messages:
        actions = play(snap, snap.prompts.vm_no_messages, required=True)
        return _menu(snap, st, replace(menu, attempts=0), actions)
    actions = []
    for slot_id in box.new_messages:
        actions += play(snap, slot_id, required=True)
    actions.append(MarkHeard(box.box_id, box.new_messages))
    return _menu(snap, st, replace(menu, heard=True, attempts=0), actions)


def on_recording(snap: DialplanSnapshot, st: CallState, event: Event) -> Result:
    phase = st.phase
    assert isinstance(phase, ServiceRecording)
    if isinstance(event, AudioReceived):
        if event.silent or event.seconds <= 0:
            return st, []
        return st.moved(replace(phase, seconds=phase.seconds + event.seconds)), []
    ends = isinstance(event, Hangup | Timer) or (isinstance(event, Dtmf) and event.digit == "0")
    if not ends:
        return st, []
    _, box = _box(snap, phase.menu.ext)
    if phase.seconds <= 0:
        saved: list[Action] = [DiscardRecording(phase.take)]
        menu = phase.menu
    else:
        saved = [SaveGreeting(box.box_id, box.greeting_slot, phase.take, phase.seconds)]
        menu = replace(phase.menu, greeting="new", greeting_take=phase.take)
    if isinstance(event, Hangup):
        return finish(snap, st, "service", "", saved)  # hanging up keeps the recording
    confirm = snap.prompts.vm_greeting_saved if phase.seconds > 0 else snap.prompts.vm_invalid
    return _menu(snap, st, menu, saved + play(snap, confirm))
