"""One call through the engine, and what it leaves behind.

`run_call` simulates a call on the company's snapshot (`dialplan.build_snapshot`), then has
the one driver (`calls.driver`) carry out its actions in the caller's session: every leg
becomes a `call_log` row, a voicemail message is deposited, a greeting recorded at 333
becomes a new version of the user's greeting slot (source "phone"), key 6 takes the greeting
off the box, new messages played are marked heard, and every refused leg is audited. Nothing
is committed here.

The caller's audio (`say`, any format) is normalised once to the master format; it is what
the caller speaks when the engine records (voicemail, greeting). Bad input raises before
anything is written: an unknown or malformed number, DTMF outside 0-9*#, audio that is not
audio.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.engine import CallScript, DialplanSnapshot, Trace, script_events, simulate
from pbx.errors import NotFound
from pbx.media.audio import MasterAudio, normalise_audio
from pbx.policies.destinations import parse_e164
from pbx.services.calls import driver
from pbx.services.calls.dialplan import build_snapshot
from pbx.services.calls.driver import CallLedger, CallRecords, QuietPhone, Take
from pbx.services.common.actor import SYSTEM, Actor
from pbx.services.people import voicemail_pin
from storage.blobs import BlobStore
from storage.models import PhoneNumber, User, utcnow

MAX_SAY_BYTES = 15_000_000
MAX_SAY_SECONDS = 300
LOCAL = ZoneInfo("Europe/Stockholm")  # opening hours are judged on Swedish wall-clock time


def local_time_of(moment: datetime) -> datetime:
    """Stockholm wall-clock time (naive, daylight saving included) of an aware moment; a
    naive one is taken as UTC, like every time stored here."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(LOCAL).replace(tzinfo=None)


@dataclass(frozen=True)
class CallRequest:
    """A call to run: who calls which number, what they key and say, which phones do not
    answer (extensions or E.164 numbers; every other phone answers)."""

    caller: str
    dialled: str
    dtmf: str = ""
    say: bytes | None = None
    busy: frozenset[str] = frozenset()
    no_answer: frozenset[str] = frozenset()
    unavailable: frozenset[str] = frozenset()
    # Try the call as if it were this local (Stockholm) time; None: when it is run.
    local_time: datetime | None = None


@dataclass
class CallResult:
    trace: Trace
    call_log_ids: list[int] = field(default_factory=list)
    voicemail_ids: list[int] = field(default_factory=list)
    version_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The JSON of `pbx call --json`."""
        return {
            "call_id": self.trace.call_id,
            "steps": [step.as_dict() for step in self.trace.steps],
            "disposition": self.trace.disposition,
            "call_log_ids": self.call_log_ids,
            "voicemail_message_ids": self.voicemail_ids,
            "media_version_ids": self.version_ids,
        }


def caller_audio(data: bytes) -> MasterAudio:
    """What the caller says, in the master format (raises AudioError if it is not audio)."""
    return normalise_audio(data, max_bytes=MAX_SAY_BYTES, max_seconds=MAX_SAY_SECONDS)


def simulate_request(
    session: Session,
    snapshot: DialplanSnapshot,
    request: CallRequest,
    audio: MasterAudio | None = None,
    call_id: str | None = None,
) -> Trace:
    """The engine's trace of `request` (nothing written; PINs checked against the boxes)."""
    seconds = audio.duration_ms / 1000 if audio is not None else None
    script = CallScript(
        caller=request.caller.strip(),
        dialled=request.dialled.strip(),
        events=script_events(request.dtmf, seconds),
        busy=request.busy,
        no_answer=request.no_answer,
        unavailable=request.unavailable,
        local_time=request.local_time,
    )
    return simulate(
        snapshot,
        script,
        call_id or str(uuid.uuid4()),
        lambda box_id, pin: voicemail_pin.check_pin(session, box_id, pin),
    )


def run_call(
    session: Session,
    blobs: BlobStore,
    tenant_id: int,
    request: CallRequest,
    *,
    actor: Actor = SYSTEM,
    started_at: datetime | None = None,
    snapshot: DialplanSnapshot | None = None,
) -> CallResult:
    """Run one call and persist what it did, in the caller's transaction."""
    start = started_at or utcnow()
    audio = caller_audio(request.say) if request.say is not None else None
    snap = snapshot or build_snapshot(session, blobs, tenant_id, start)
    if request.local_time is None:
        request = replace(request, local_time=local_time_of(start))
    trace = simulate_request(session, snap, request, audio)
    ledger = CallLedger.for_snapshot(snap, trace.call_id, start)
    records = CallRecords(session, blobs, actor, ledger)
    driver.replay(trace.actions, SimulatedPhone(audio), records)
    return CallResult(trace, ledger.call_log_ids, ledger.voicemail_ids, ledger.version_ids)


class SimulatedPhone(QuietPhone):
    """The simulator's phone: the trace already holds what the caller heard, and what the
    caller says is the one audio of the request, whatever the engine records it as."""

    def __init__(self, audio: MasterAudio | None) -> None:
        self.audio = audio

    def take(self, take: int) -> Take | None:
        if self.audio is None:
            return None
        return Take(self.audio.wav, self.audio.duration_ms)


def tenant_of_call(session: Session, caller: str, dialled: str) -> int:
    """The company a call belongs to: the dialled number's, else the calling user's (by
    mobile); extensions and 333 need the company named."""
    dialled, caller = _e164_or_same(dialled), _e164_or_same(caller)
    owner = session.scalar(select(PhoneNumber.tenant_id).where(PhoneNumber.e164 == dialled))
    if owner is None:
        owner = session.scalar(
            select(User.tenant_id).where(User.mobile == caller, User.tenant_id.is_not(None))
        )
    if owner is not None:
        return int(owner)
    raise NotFound(f"{dialled} is not a number of any company (name the company for extensions)")


def _e164_or_same(text: str) -> str:
    """A number that looks like E.164 normalised (bad ones raise InvalidNumber)."""
    text = text.strip()
    return parse_e164(text) if text.startswith("+") else text
