"""Actions the engine asks its driver to perform. The engine never performs them itself.

Recordings are identified by `take` (1, 2, ... within a call): the media layer captures the
caller's audio under (call_id, take) from `RecordInto` until the engine says what to do with
it (`DepositVoicemail`, `SaveGreeting`, `StoreRecording`, `DiscardRecording`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

from pbx.engine.dialplan import ForwardKind

Tone = Literal["beep", "fallback"]
RecordPurpose = Literal["voicemail", "greeting", "slot"]
Direction = Literal["inbound", "internal", "forwarded", "outbound", "service", "callback"]


@dataclass(frozen=True, slots=True)
class PlayMessage:
    """Play a slot. When `audio_ok` is False nothing is played: the next action is the
    fallback (another message or a tone) and the trace marks the slot `missing`."""

    slot_id: str
    slot_name: str
    audio_ok: bool


@dataclass(frozen=True, slots=True)
class PlayTone:
    tone: Tone


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Send a `Timer` event after `seconds` unless another event comes first."""

    seconds: float


@dataclass(frozen=True, slots=True)
class RingUser:
    ext: str
    user_id: str
    timeout: float


@dataclass(frozen=True, slots=True)
class RingGroup:
    """Ring every member at once (a ring_all group); the first to answer takes the call
    (`Answer.by` names them), the others stop ringing."""

    members: tuple[RingUser, ...]
    timeout: float


@dataclass(frozen=True, slots=True)
class HoursChecked:
    """Opening hours decided a branch: `open` or not, and why (`reason` as in
    `pbx.policies.opening_hours`, `detail` the holiday, closed day or interval)."""

    schedule_id: str
    open: bool
    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class DoNotDisturb:
    """`ext` is on do-not-disturb: not rung, treated as busy (said for the trace)."""

    ext: str


@dataclass(frozen=True, slots=True)
class SetPresence:
    """The user keyed the do-not-disturb code: store their new state."""

    ext: str
    user_id: str
    dnd: bool


@dataclass(frozen=True, slots=True)
class DialExternal:
    """Ring an outside number (the destination policy has already allowed it)."""

    e164: str
    timeout: float


@dataclass(frozen=True, slots=True)
class ForwardCall:
    """A forwarding rule of `from_ext` sends the call on to `to` (extension or E.164)."""

    from_ext: str
    to: str
    kind: ForwardKind


@dataclass(frozen=True, slots=True)
class RefuseLeg:
    """A leg that was not placed; to be audited. `reason_code` is stable
    (policy codes such as "premium_rate", or "forwarding_loop", "forwarding_depth",
    "unknown_extension")."""

    to: str
    reason_code: str
    message: str


@dataclass(frozen=True, slots=True)
class EnterVoicemail:
    ext: str
    box_id: str


@dataclass(frozen=True, slots=True)
class RecordInto:
    """Start capturing the caller's audio as `take` (slot_id for greeting/slot purposes)."""

    purpose: RecordPurpose
    take: int
    max_seconds: float
    box_id: str | None = None
    slot_id: str | None = None


@dataclass(frozen=True, slots=True)
class DepositVoicemail:
    box_id: str
    ext: str
    caller: str
    take: int
    seconds: float


@dataclass(frozen=True, slots=True)
class SaveGreeting:
    """Store `take` as the box's personal greeting (a new version of its greeting slot;
    `slot_id` None means the box has no greeting slot yet and one must be created)."""

    box_id: str
    slot_id: str | None
    take: int
    seconds: float


@dataclass(frozen=True, slots=True)
class DeleteGreeting:
    """Remove the personal greeting: the box falls back to the default greeting."""

    box_id: str
    slot_id: str | None


@dataclass(frozen=True, slots=True)
class PlayRecording:
    """Play back `take` of this call (not yet stored)."""

    take: int


@dataclass(frozen=True, slots=True)
class StoreRecording:
    """Store `take` as a new media version of `slot_id` (record-by-phone)."""

    slot_id: str
    take: int
    seconds: float


@dataclass(frozen=True, slots=True)
class DiscardRecording:
    take: int


@dataclass(frozen=True, slots=True)
class MarkHeard:
    box_id: str
    message_slots: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VerifyPin:
    """Check `pin` for the box of `ext`; answer with a `PinChecked` event."""

    ext: str
    box_id: str
    pin: str


class CallLogLeg(NamedTuple):
    """One call-log (CDR) row. Times are seconds since the call started (event `at`);
    the writer adds the wall-clock start. A NamedTuple: immutable, cheap to build, and a
    ready row for a bulk insert (`executemany`)."""

    call_id: str
    leg: int  # 1 is the leg that started the call; others are numbered as they end
    tenant_id: str
    direction: Direction
    caller: str
    callee: str
    started_at: float
    answered_at: float | None
    ended_at: float
    disposition: str
    user_id: str | None = None  # the called user, when the callee is one
    forwarded_from: str | None = None  # extension whose forwarding rule placed this leg
    forward_kind: ForwardKind | None = None
    forwarded_to: str | None = None  # where the call went on to after this leg
    refused_reason: str | None = None
    queue_id: str | None = None  # the queue this leg rang from (call statistics per queue)


@dataclass(frozen=True, slots=True)
class WriteCallLog:
    leg: CallLogLeg


@dataclass(frozen=True, slots=True)
class HangUp:
    reason: str


@dataclass(frozen=True, slots=True)
class CallbackFinished:
    """The record-by-phone session is over; `status` is shown to the requesting user."""

    slot_id: str
    status: str


Action = (
    PlayMessage
    | PlayTone
    | StartTimer
    | RingUser
    | RingGroup
    | HoursChecked
    | SetPresence
    | DoNotDisturb
    | DialExternal
    | ForwardCall
    | RefuseLeg
    | EnterVoicemail
    | RecordInto
    | DepositVoicemail
    | SaveGreeting
    | DeleteGreeting
    | PlayRecording
    | StoreRecording
    | DiscardRecording
    | MarkHeard
    | VerifyPin
    | WriteCallLog
    | HangUp
    | CallbackFinished
)
