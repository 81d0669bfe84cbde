"""The dialplan snapshot: one tenant's routing, frozen, as the engine sees it.

A `pbx` service builds it from database rows; the engine only reads it. References between
objects are by id (extension, menu id, queue id, slot id), so a snapshot can be built row by
row. A reference that does not resolve never crashes a call: the engine treats a missing slot
as missing audio and a missing user/menu/queue as an unreachable destination (and
`validate_dialplan` reports both at save time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from pbx.policies.destinations import DestinationPolicy, Refusal, evaluate
from pbx.policies.opening_hours import OpeningHours

if TYPE_CHECKING:  # actions import this module; the annotation only is needed here
    from pbx.engine.actions import Action

# --- destinations ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToExtension:
    """Ring a user (and apply their forwarding rules)."""

    ext: str


@dataclass(frozen=True, slots=True)
class ToExternal:
    """An outside number (E.164); checked against the destination policy at call time."""

    e164: str


@dataclass(frozen=True, slots=True)
class ToIvr:
    menu_id: str


@dataclass(frozen=True, slots=True)
class ToQueue:
    queue_id: str


@dataclass(frozen=True, slots=True)
class ToVoicemail:
    """Straight to a user's voicemail box (no ringing)."""

    ext: str


@dataclass(frozen=True, slots=True)
class ToHangup:
    """Play an optional goodbye message, then hang up."""

    slot_id: str | None = None


@dataclass(frozen=True, slots=True)
class ToHours:
    """Open or closed by a schedule, judged at the call's local start time: `open` while open;
    when closed, `closed_slot` (e.g. "Stängt") is played and the call goes on to `closed`."""

    schedule_id: str
    open: Destination
    closed: Destination
    closed_slot: str | None = None


Destination = ToExtension | ToExternal | ToIvr | ToQueue | ToVoicemail | ToHangup | ToHours
ForwardTarget = ToExtension | ToExternal
ForwardKind = Literal["unconditional", "busy", "no_answer", "unavailable"]
FORWARD_KINDS: tuple[ForwardKind, ...] = ("unconditional", "busy", "no_answer", "unavailable")

SlotKind = Literal[
    "welcome",
    "ivr_prompt",
    "ivr_invalid",
    "queue",
    "hold",
    "greeting",
    "voicemail_message",
    "system",
]
QueueKind = Literal["queue", "ring_group"]
# ring_all: every member at once; in_order: by position; round_robin: starting after the
# member rung last; least_recent: the member who answered longest ago first.
Strategy = Literal["ring_all", "in_order", "round_robin", "least_recent"]
STRATEGIES: tuple[Strategy, ...] = ("ring_all", "in_order", "round_robin", "least_recent")

# --- dialplan objects -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageSlot:
    """A placement for a recorded message. `audio_ok` is False when the audio is missing or
    failed verification; the engine then plays a fallback and the trace says `missing`."""

    slot_id: str
    name: str
    kind: SlotKind
    audio_ok: bool = True


@dataclass(frozen=True, slots=True)
class NumberRoute:
    """A tenant number (E.164) or short number and where calls to it go."""

    e164: str
    destination: Destination
    welcome_slot: str | None = None


@dataclass(frozen=True, slots=True)
class ForwardingRule:
    kind: ForwardKind
    destination: ForwardTarget


@dataclass(frozen=True, slots=True)
class VoicemailBox:
    """A user's box. No greeting slot means the tenant's default greeting is played.

    The PIN is not here: the engine asks for it to be verified (`VerifyPin` action) and is
    told the result (`PinChecked` event), so no secret enters the snapshot.
    """

    box_id: str
    greeting_slot: str | None = None
    new_messages: tuple[str, ...] = ()  # slot ids of unheard messages, oldest first
    greeting_only: bool = False  # callers hear the greeting and cannot leave a message


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    ext: str
    name: str = ""
    mobile: str | None = None  # E.164; identifies the caller at the service number
    ring_time: int = 20  # seconds before a no-answer
    forwarding: tuple[ForwardingRule, ...] = ()
    voicemail: VoicemailBox | None = None
    dnd: bool = False  # do not disturb: treated as busy (the busy forwarding applies)

    def rule(self, kind: ForwardKind) -> ForwardingRule | None:
        for rule in self.forwarding:
            if rule.kind == kind:
                return rule
        return None


@dataclass(frozen=True, slots=True)
class IvrOption:
    digit: str  # one of 0-9 and #; * is reserved for "repeat the menu"
    destination: Destination


@dataclass(frozen=True, slots=True)
class IvrMenu:
    menu_id: str
    name: str
    prompt_slot: str | None
    options: tuple[IvrOption, ...]
    timeout: int = 5  # seconds without a digit before the timeout destination
    timeout_destination: Destination = ToHangup()
    invalid_slot: str | None = None
    max_retries: int = 3  # invalid digits (and * repeats) before the timeout destination

    def option(self, digit: str) -> Destination | None:
        for option in self.options:
            if option.digit == digit:
                return option.destination
        return None


@dataclass(frozen=True, slots=True)
class Queue:
    """A queue or a ring group. Members are rung in the order `strategy` gives (all together
    for ring_all), `ring_time` seconds a time (None: each member's own ring time), round
    after round until `max_wait` (the caller's total wait) is up; then `overflow`. A queue
    first plays its message, the caller's position (`waiting` callers are ahead) when
    `announce_position`, and its message on hold (`hold_slot`) while members ring.

    `last_rung` (round_robin) and `last_answered` (least_recent: extension → seconds, larger
    is more recent) are facts from the call log, given by whoever builds the snapshot."""

    queue_id: str
    name: str
    members: tuple[str, ...]  # extensions
    message_slot: str | None = None
    max_wait: int = 60
    overflow: Destination = ToHangup()
    kind: QueueKind = "queue"
    strategy: Strategy = "in_order"
    ring_time: int | None = None
    announce_position: bool = False
    hold_slot: str | None = None
    waiting: int = 0
    last_rung: str | None = None
    last_answered: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Schedule:
    """Opening hours that `ToHours` destinations name (the company's, or one number's)."""

    schedule_id: str
    name: str
    hours: OpeningHours = OpeningHours()


@dataclass(frozen=True, slots=True)
class SystemPrompts:
    """Slot ids of the tenant's system messages (None: a fallback tone is played)."""

    default_greeting: str | None = None
    unavailable: str | None = None
    goodbye: str | None = None
    vm_enter_mailbox: str | None = None
    vm_enter_pin: str | None = None
    vm_menu: str | None = None
    vm_record_after_tone: str | None = None
    vm_greeting_saved: str | None = None
    vm_greeting_deleted: str | None = None
    vm_no_greeting: str | None = None
    vm_no_messages: str | None = None
    vm_invalid: str | None = None
    callback_instructions: str | None = None
    callback_review: str | None = None
    callback_saved: str | None = None
    callback_no_audio: str | None = None
    dnd_on: str | None = None
    dnd_off: str | None = None
    # "You are number N in the queue": index 0 is position 1; the last one also serves every
    # later position ("many callers are ahead of you").
    queue_positions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    number: str = "333"  # the voicemail service number
    max_attempts: int = 3  # wrong PINs / invalid keys before the service hangs up
    max_recording: int = 120  # seconds of greeting or callback recording
    # The notice identifies the box by the calling number, but caller ID can be forged: a
    # caller known only by the number is asked for the PIN unless the company knowingly
    # trusts calling numbers. A verified caller (`Dial.caller_verified`) needs no PIN unless
    # the company asks for it every time (`require_pin`).
    trust_calling_number: bool = False
    require_pin: bool = False


@dataclass(frozen=True, slots=True)
class Limits:
    max_forward_depth: int = 5  # users/numbers in one forwarding chain
    max_events: int = 200  # events one call may consume before it is ended
    max_hops: int = 16  # routing hops (menu/queue/number) inside one step
    max_voicemail: int = 180  # seconds of a caller's voicemail message


@dataclass(frozen=True, slots=True)
class FraudGuard:
    """Where the velocity and cost caps stand when the snapshot is built (SECURITY.md item
    22). The service computes them from the call log; the engine refuses the legs they block
    (the refused legs are logged like any other)."""

    suspended_forwarding: frozenset[str] = frozenset()  # extensions: no outside forwarding
    international_blocked: bool = False  # a cap was crossed: no international legs at all


@dataclass(frozen=True)
class DialplanSnapshot:
    """Everything the engine needs for one tenant's calls. Immutable; lookups are indexed
    lazily (the index is derived data, never state)."""

    tenant_id: str
    numbers: tuple[NumberRoute, ...] = ()
    users: tuple[User, ...] = ()
    ivr_menus: tuple[IvrMenu, ...] = ()
    queues: tuple[Queue, ...] = ()
    slots: tuple[MessageSlot, ...] = ()
    policy: DestinationPolicy = DestinationPolicy()
    prompts: SystemPrompts = SystemPrompts()
    service: ServiceConfig = ServiceConfig()
    limits: Limits = Limits()
    guard: FraudGuard = FraudGuard()
    schedules: tuple[Schedule, ...] = ()
    _verdicts: dict[str, Refusal | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # Actions that depend on the snapshot only (playing a slot, ringing a user, a menu's
    # prompt), memoised by the engine; derived data, never part of equality.
    action_memo: dict[tuple[str | bool | None, ...], tuple[Action, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @cached_property
    def number_index(self) -> dict[str, NumberRoute]:
        return {route.e164: route for route in self.numbers}

    @cached_property
    def user_index(self) -> dict[str, User]:
        return {user.ext: user for user in self.users}

    @cached_property
    def mobile_index(self) -> dict[str, User]:
        return {user.mobile: user for user in self.users if user.mobile}

    @cached_property
    def menu_index(self) -> dict[str, IvrMenu]:
        return {menu.menu_id: menu for menu in self.ivr_menus}

    @cached_property
    def queue_index(self) -> dict[str, Queue]:
        return {queue.queue_id: queue for queue in self.queues}

    @cached_property
    def schedule_index(self) -> dict[str, Schedule]:
        return {schedule.schedule_id: schedule for schedule in self.schedules}

    @cached_property
    def slot_index(self) -> dict[str, MessageSlot]:
        return {slot.slot_id: slot for slot in self.slots}

    def refusal(self, e164: str) -> Refusal | None:
        """The policy verdict for a leg to `e164` (memoised per snapshot: both are fixed)."""
        try:
            return self._verdicts[e164]
        except KeyError:
            verdict = self._verdicts[e164] = evaluate(e164, self.policy)
            return verdict
