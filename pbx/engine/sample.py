"""A small, complete dialplan used by the engine's tests and benchmark (no storage needed).

Main number +46812345678: welcome → main menu (1 sales menu, 2 support queue, 3 Anna's
voicemail, 9 goodbye; timeout → Anna). Sales menu: 1 Anna, 2 Bo. Direct line +46812345679 →
Anna. Support number +46812345670 → queue (Bo, David; overflow → David's voicemail).
Anna (201) forwards on no answer to Bo (202); Bo forwards when busy to his mobile; Cecilia
(203) forwards everything to David (204) and has no voicemail box.
"""

from __future__ import annotations

from pbx.engine.dialplan import (
    DialplanSnapshot,
    ForwardingRule,
    IvrMenu,
    IvrOption,
    MessageSlot,
    NumberRoute,
    Queue,
    SlotKind,
    SystemPrompts,
    ToExtension,
    ToExternal,
    ToHangup,
    ToIvr,
    ToQueue,
    ToVoicemail,
    User,
    VoicemailBox,
)
from pbx.policies.destinations import DestinationPolicy

MAIN_NUMBER = "+46812345678"
DIRECT_NUMBER = "+46812345679"
SUPPORT_NUMBER = "+46812345670"
ANNA_MOBILE = "+46701234567"
BO_MOBILE = "+46731234567"
CALLER = "+46739876543"

_SLOTS: tuple[tuple[str, str, SlotKind], ...] = (
    ("s-welcome", "Welcome", "welcome"),
    ("s-main", "Main menu", "ivr_prompt"),
    ("s-sales", "Sales menu", "ivr_prompt"),
    ("s-invalid", "Invalid choice", "ivr_invalid"),
    ("s-queue", "Please hold", "queue"),
    ("s-greet-anna", "Anna's greeting", "greeting"),
    ("s-msg-1", "Message 1", "voicemail_message"),
    ("s-msg-2", "Message 2", "voicemail_message"),
    ("s-default-greeting", "Default greeting", "system"),
    ("s-unavailable", "Nobody can take your call", "system"),
    ("s-goodbye", "Goodbye", "system"),
    ("s-vm-mailbox", "Enter your extension", "system"),
    ("s-vm-pin", "Enter your PIN", "system"),
    ("s-vm-menu", "Voicemail menu", "system"),
    ("s-vm-record", "Record after the tone", "system"),
    ("s-vm-saved", "Greeting saved", "system"),
    ("s-vm-deleted", "Greeting deleted", "system"),
    ("s-vm-no-greeting", "No personal greeting", "system"),
    ("s-vm-no-messages", "No new messages", "system"),
    ("s-vm-invalid", "Invalid key", "system"),
    ("s-cb-instructions", "Record after the tone, hang up or press #", "system"),
    ("s-cb-review", "1 listen, 2 record again, # save", "system"),
    ("s-cb-saved", "Saved", "system"),
    ("s-cb-no-audio", "Nothing was recorded", "system"),
)

PROMPTS = SystemPrompts(
    default_greeting="s-default-greeting",
    unavailable="s-unavailable",
    goodbye="s-goodbye",
    vm_enter_mailbox="s-vm-mailbox",
    vm_enter_pin="s-vm-pin",
    vm_menu="s-vm-menu",
    vm_record_after_tone="s-vm-record",
    vm_greeting_saved="s-vm-saved",
    vm_greeting_deleted="s-vm-deleted",
    vm_no_greeting="s-vm-no-greeting",
    vm_no_messages="s-vm-no-messages",
    vm_invalid="s-vm-invalid",
    callback_instructions="s-cb-instructions",
    callback_review="s-cb-review",
    callback_saved="s-cb-saved",
    callback_no_audio="s-cb-no-audio",
)


def _users() -> tuple[User, ...]:
    anna = User(
        "u-anna",
        "201",
        "Anna",
        mobile=ANNA_MOBILE,
        ring_time=15,
        forwarding=(ForwardingRule("no_answer", ToExtension("202")),),
        voicemail=VoicemailBox("vm-anna", "s-greet-anna", ("s-msg-1", "s-msg-2")),
    )
    bo = User(
        "u-bo",
        "202",
        "Bo",
        mobile=BO_MOBILE,
        ring_time=10,
        forwarding=(ForwardingRule("busy", ToExternal(BO_MOBILE)),),
        voicemail=VoicemailBox("vm-bo"),
    )
    cecilia = User(
        "u-cecilia",
        "203",
        "Cecilia",
        forwarding=(ForwardingRule("unconditional", ToExtension("204")),),
    )
    david = User("u-david", "204", "David", ring_time=20, voicemail=VoicemailBox("vm-david"))
    return (anna, bo, cecilia, david)


def _menus() -> tuple[IvrMenu, ...]:
    main = IvrMenu(
        "m-main",
        "Main menu",
        "s-main",
        (
            IvrOption("1", ToIvr("m-sales")),
            IvrOption("2", ToQueue("q-support")),
            IvrOption("3", ToVoicemail("201")),
            IvrOption("9", ToHangup("s-goodbye")),
        ),
        timeout=5,
        timeout_destination=ToExtension("201"),
        invalid_slot="s-invalid",
        max_retries=2,
    )
    sales = IvrMenu(
        "m-sales",
        "Sales",
        "s-sales",
        (IvrOption("1", ToExtension("201")), IvrOption("2", ToExtension("202"))),
        timeout_destination=ToIvr("m-main"),
        invalid_slot="s-invalid",
    )
    return (main, sales)


def sample_snapshot() -> DialplanSnapshot:
    queue = Queue(
        "q-support", "Support", ("202", "204"), "s-queue", max_wait=60, overflow=ToVoicemail("204")
    )
    return DialplanSnapshot(
        "tenant-demo",
        numbers=(
            NumberRoute(MAIN_NUMBER, ToIvr("m-main"), "s-welcome"),
            NumberRoute(DIRECT_NUMBER, ToExtension("201")),
            NumberRoute(SUPPORT_NUMBER, ToQueue("q-support")),
        ),
        users=_users(),
        ivr_menus=_menus(),
        queues=(queue,),
        slots=tuple(MessageSlot(slot_id, name, kind) for slot_id, name, kind in _SLOTS),
        policy=DestinationPolicy("SE", frozenset({"NO"})),
        prompts=PROMPTS,
    )
