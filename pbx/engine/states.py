"""Named call states. A call is a `CallState` (what is true for the whole call) holding one
phase (where the call is now). Phases are frozen; transitions build new ones.

Inbound:   Idle → Routing → InMenu | Ringing | RingingExternal | InQueue
           → Connected | RecordingVoicemail → Ended
Service:   Idle → ServiceMailbox → ServicePin → ServiceVerifying → ServiceMenu
           ⇄ ServiceRecording → Ended
Callback:  CallbackRinging → CallbackRecording ⇄ CallbackReview → Ended
`Routing` is transient: `step` resolves it before returning.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, NamedTuple

from pbx.engine.actions import Direction
from pbx.engine.dialplan import Destination, ForwardKind

GreetingState = Literal["stored", "new", "deleted"]


@dataclass(frozen=True, slots=True)
class Idle:
    pass


@dataclass(frozen=True, slots=True)
class Routing:
    """Transient: the call is on its way to `destination`."""

    destination: Destination
    reason: str = ""


@dataclass(frozen=True, slots=True)
class InMenu:
    menu_id: str
    attempts: int = 0  # invalid digits and * repeats so far


@dataclass(frozen=True, slots=True)
class Ringing:
    """A user's phone rings. `chain` holds the extensions of this forwarding chain."""

    ext: str
    user_id: str
    chain: tuple[str, ...]
    since: float
    forwarded_from: str | None = None
    kind: ForwardKind | None = None


@dataclass(frozen=True, slots=True)
class RingingExternal:
    e164: str
    chain: tuple[str, ...]
    since: float
    forwarded_from: str | None = None
    kind: ForwardKind | None = None


@dataclass(frozen=True, slots=True)
class InQueue:
    queue_id: str
    index: int  # the member being rung (its place in `order`)
    waited: float
    since: float
    order: tuple[str, ...] = ()  # the extensions in the order this call rings them
    together: bool = False  # every member of `order` rings at once (ring_all)
    round_from: float = 0.0  # `waited` when this round of the members began


@dataclass(frozen=True, slots=True)
class Connected:
    party: str
    direction: Direction
    since: float
    answered: float
    user_id: str | None = None
    forwarded_from: str | None = None
    kind: ForwardKind | None = None
    queue_id: str | None = None  # answered by a member of this queue


@dataclass(frozen=True, slots=True)
class RecordingVoicemail:
    ext: str
    box_id: str
    take: int
    since: float
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class ServiceMailbox:
    """333 from an unknown number: the caller keys their extension, ended by #."""

    digits: str = ""
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class ServicePin:
    ext: str
    digits: str = ""
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class ServiceVerifying:
    ext: str
    attempts: int


@dataclass(frozen=True, slots=True)
class ServiceMenu:
    ext: str
    greeting: GreetingState = "stored"
    greeting_take: int = 0  # the take saved in this call when greeting == "new"
    attempts: int = 0
    heard: bool = False  # new messages were played in this call


@dataclass(frozen=True, slots=True)
class ServiceRecording:
    menu: ServiceMenu
    take: int
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class CallbackRinging:
    slot_id: str
    since: float


@dataclass(frozen=True, slots=True)
class CallbackRecording:
    slot_id: str
    take: int
    answered: float
    seconds: float = 0.0
    silent_takes: int = 0


@dataclass(frozen=True, slots=True)
class CallbackReview:
    slot_id: str
    take: int
    answered: float
    seconds: float
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class Ended:
    disposition: str
    reason: str = ""


Phase = (
    Idle
    | Routing
    | InMenu
    | Ringing
    | RingingExternal
    | InQueue
    | Connected
    | RecordingVoicemail
    | ServiceMailbox
    | ServicePin
    | ServiceVerifying
    | ServiceMenu
    | ServiceRecording
    | CallbackRinging
    | CallbackRecording
    | CallbackReview
    | Ended
)


class _Keep(enum.Enum):
    KEEP = 0


KEEP: Final = _Keep.KEEP
_new = tuple.__new__


class CallState(NamedTuple):
    """The whole call. `at` is the time of the last event; `next_leg` numbers call-log legs
    (leg 1, the call itself, is written when the call ends).

    A NamedTuple rather than a frozen dataclass: equally immutable, but built about five
    times faster (a frozen dataclass pays an `object.__setattr__` per field), and the engine
    builds several per event (see benchmarks/README.md)."""

    call_id: str
    phase: Phase = Idle()
    caller: str = ""
    dialled: str = ""
    direction: Direction = "inbound"
    at: float = 0.0
    events: int = 0
    next_leg: int = 2
    takes: int = 0
    answered_at: float | None = None
    forwarded_to: str | None = None
    local_time: datetime | None = None  # the call's local start time (opening hours)

    @property
    def is_final(self) -> bool:
        return isinstance(self.phase, Ended)

    # The three transitions of every step, built by slicing (about twice as fast as
    # keyword construction); the indexes follow the field order above.
    def moved(self, phase: Phase) -> CallState:
        """The same call in another phase."""
        return _new(CallState, (self[0], phase) + self[2:])

    def ticked(self, at: float) -> CallState:
        """One more event, at `at`."""
        return _new(CallState, self[:5] + (at, self[6] + 1) + self[7:])

    def leg_written(self) -> CallState:
        """One more call-log leg numbered."""
        return _new(CallState, self[:7] + (self[7] + 1,) + self[8:])

    def evolve(
        self,
        *,
        phase: Phase | _Keep = KEEP,
        caller: str | _Keep = KEEP,
        dialled: str | _Keep = KEEP,
        direction: Direction | _Keep = KEEP,
        next_leg: int | _Keep = KEEP,
        takes: int | _Keep = KEEP,
        answered_at: float | None | _Keep = KEEP,
        forwarded_to: str | None | _Keep = KEEP,
        local_time: datetime | None | _Keep = KEEP,
    ) -> CallState:
        """A copy with some fields changed (`_replace`, typed and faster)."""
        return CallState(
            self.call_id,
            self.phase if phase is KEEP else phase,
            self.caller if caller is KEEP else caller,
            self.dialled if dialled is KEEP else dialled,
            self.direction if direction is KEEP else direction,
            self.at,
            self.events,
            self.next_leg if next_leg is KEEP else next_leg,
            self.takes if takes is KEEP else takes,
            self.answered_at if answered_at is KEEP else answered_at,
            self.forwarded_to if forwarded_to is KEEP else forwarded_to,
            self.local_time if local_time is KEEP else local_time,
        )


def new_call(call_id: str) -> CallState:
    """The state a call starts in; feed it a `Dial` event."""
    return CallState(call_id=call_id)
