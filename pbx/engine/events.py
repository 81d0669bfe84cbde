"""Events fed to the engine. `at` is seconds since the call started (the driver's clock:
virtual in the simulator, real in a live call); the engine uses it only for call-log times."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pbx.engine.errors import InvalidDtmf

DTMF_DIGITS = frozenset("0123456789*#")


@dataclass(frozen=True, slots=True)
class Dial:
    """A call arrives: `caller` (E.164 or extension) dialled `dialled` (a tenant number,
    an extension, the service number, or an outside number from an extension).

    `caller_verified`: the driver has proven who calls (the site's signed-in softphone; later
    a digest-authenticated SIP registration). A calling number alone proves nothing (anyone
    who can place a call can forge it), so the service number asks such callers for the PIN
    unless their company chose to trust calling numbers."""

    caller: str
    dialled: str
    at: float = field(default=0.0, kw_only=True)
    caller_verified: bool = field(default=False, kw_only=True)
    # The call's local start time (Europe/Stockholm wall clock, naive), given by the driver:
    # opening hours are judged by it. None: no time known (counts as open).
    local_time: datetime | None = field(default=None, kw_only=True)


@dataclass(frozen=True, slots=True)
class Answer:
    """The party being rung (user, queue member or outside number) answered. When several
    phones ring at once (a ring_all group), `by` is the extension that answered."""

    at: float = field(default=0.0, kw_only=True)
    by: str | None = field(default=None, kw_only=True)


@dataclass(frozen=True, slots=True)
class Busy:
    at: float = field(default=0.0, kw_only=True)


@dataclass(frozen=True, slots=True)
class NoAnswer:
    """The ring timed out without an answer."""

    at: float = field(default=0.0, kw_only=True)


@dataclass(frozen=True, slots=True)
class Unavailable:
    """The party is not reachable (not registered, switched off, do-not-disturb)."""

    at: float = field(default=0.0, kw_only=True)


@dataclass(frozen=True, slots=True)
class Dtmf:
    digit: str
    at: float = field(default=0.0, kw_only=True)

    def __post_init__(self) -> None:
        if self.digit not in DTMF_DIGITS:
            raise InvalidDtmf(f"DTMF digit must be one of 0-9, * and #, not {self.digit!r}.")


@dataclass(frozen=True, slots=True)
class AudioReceived:
    """The caller spoke for `seconds` while recording (`silent` when only silence came)."""

    seconds: float
    silent: bool = False
    at: float = field(default=0.0, kw_only=True)


@dataclass(frozen=True, slots=True)
class PinChecked:
    """The answer to a `VerifyPin` action."""

    ok: bool
    at: float = field(default=0.0, kw_only=True)


@dataclass(frozen=True, slots=True)
class Timer:
    """The timer the engine started (`StartTimer`) ran out: IVR timeout, queue max wait,
    maximum recording length."""

    at: float = field(default=0.0, kw_only=True)


@dataclass(frozen=True, slots=True)
class Hangup:
    """The caller (or the called party of a callback) hung up."""

    at: float = field(default=0.0, kw_only=True)


Event = (
    Dial
    | Answer
    | Busy
    | NoAnswer
    | Unavailable
    | Dtmf
    | AudioReceived
    | PinChecked
    | Timer
    | Hangup
)


def parse_dtmf(text: str) -> tuple[str, ...]:
    """Split a DTMF string ("12*#", spaces allowed) into digits or raise InvalidDtmf."""
    digits = tuple(ch for ch in text if not ch.isspace())
    bad = sorted({ch for ch in digits if ch not in DTMF_DIGITS})
    if bad:
        raise InvalidDtmf(f"DTMF may only contain 0-9, * and #; found {', '.join(map(repr, bad))}.")
    return digits
