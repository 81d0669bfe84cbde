"""One call through the engine, and what it leaves behind.

`run_call` simulates a call on the company's snapshot (`dialplan.build_snapshot`), then does
in the caller's session what the engine's actions say: every leg becomes a `call_log` row,
a voicemail message is deposited, a greeting recorded at 333 becomes a new version of the
user's greeting slot (source "phone"), key 6 takes the greeting off the box, new messages
played are marked heard, and every refused leg is audited. Nothing is committed here.

The caller's audio (`say`, any format) is normalised once to the master format; it is what
the caller speaks when the engine records (voicemail, greeting). Bad input raises before
anything is written: an unknown or malformed number, DTMF outside 0-9*#, audio that is not
audio.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from pbx.engine import CallScript, DialplanSnapshot, Trace, script_events, simulate
from pbx.engine import actions as a
from pbx.errors import NotFound
from pbx.media.audio import MasterAudio, normalise_audio
from pbx.policies.destinations import parse_e164
from pbx.services.audit import log as audit
from pbx.services.calllog import rows as call_rows
from pbx.services.calls.dialplan import build_snapshot
from pbx.services.calls.live_snapshot import VOICEMAIL_PREFIX
from pbx.services.common.actor import SYSTEM, Actor
from pbx.services.fraud import guard as fraud_guard
from pbx.services.library import slots as slot_service
from pbx.services.people import greetings, voicemail, voicemail_pin
from storage.blobs import BlobStore
from storage.models import (
    CallLogEntry,
    PhoneNumber,
    Tenant,
    User,
    VoicemailBox,
    VoicemailMessage,
    utcnow,
)

MAX_SAY_BYTES = 15_000_000
MAX_SAY_SECONDS = 300


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
    trace = simulate_request(session, snap, request, audio)
    result = CallResult(trace)
    _Effects(session, blobs, actor, snap, audio, start, result).apply(trace.actions)
    result.call_log_ids = write_call_log(session, snap, trace, start)
    if any(leg.direction in ("forwarded", "outbound") for leg in trace.call_log):
        tenant = session.get(Tenant, tenant_id)
        assert tenant is not None
        fraud_guard.enforce(session, actor, tenant, start)
    return result


def write_call_log(
    session: Session, snap: DialplanSnapshot, trace: Trace, start: datetime
) -> list[int]:
    """Insert the call's legs (leg order) and return their ids."""
    user_ids = {user.ext: int(user.user_id) for user in snap.users if user.user_id.isdigit()}
    legs = sorted(trace.call_log, key=lambda leg: leg.leg)
    rows = call_rows.rows_of(legs, start, user_ids)
    if not rows:
        return []
    stmt = insert(CallLogEntry).returning(CallLogEntry.id, sort_by_parameter_order=True)
    return list(session.scalars(stmt, rows))


class _Effects:
    """The server's share of a finished call's actions."""

    def __init__(
        self,
        session: Session,
        blobs: BlobStore,
        actor: Actor,
        snap: DialplanSnapshot,
        audio: MasterAudio | None,
        start: datetime,
        result: CallResult,
    ) -> None:
        self.session, self.blobs, self.actor = session, blobs, actor
        self.snap, self.audio, self.start, self.result = snap, audio, start, result

    def apply(self, actions: tuple[a.Action, ...]) -> None:
        for action in actions:
            if isinstance(action, a.DepositVoicemail):
                self._deposit(action)
            elif isinstance(action, a.SaveGreeting):
                self._greeting(action)
            elif isinstance(action, a.DeleteGreeting):
                greetings.remove_greeting(self.session, self.actor, self._owner(action.box_id))
            elif isinstance(action, a.MarkHeard):
                mark_heard(self.session, action.message_slots)
            elif isinstance(action, a.RefuseLeg):
                self._refused(action)

    def _owner(self, box_id: str) -> User:
        box = self.session.get(VoicemailBox, int(box_id))
        user = self.session.get(User, box.user_id) if box is not None else None
        if user is None:
            raise NotFound(f"no voicemail box {box_id}")
        return user

    def _deposit(self, action: a.DepositVoicemail) -> None:
        box = self.session.get(VoicemailBox, int(action.box_id))
        if box is None or self.audio is None:
            return
        message = voicemail.deposit(
            self.session, self.blobs, box, caller=action.caller[:16], received_at=self.start,
            master_wav=self.audio.wav, duration_ms=self.audio.duration_ms,
        )  # fmt: skip
        self.result.voicemail_ids.append(message.id)

    def _greeting(self, action: a.SaveGreeting) -> None:
        if self.audio is None:
            return
        user = self._owner(action.box_id)
        slot = voicemail.greeting_slot(self.session, self.actor, user)
        version = slot_service.add_version(
            self.session, self.blobs, self.actor, slot, self.audio.wav,
            source="phone", duration_ms=self.audio.duration_ms,
        )  # fmt: skip
        self.result.version_ids.append(version.id)

    def _refused(self, action: a.RefuseLeg) -> None:
        audit.record(
            self.session, self.actor, "call.refused", tenant_id=int(self.snap.tenant_id),
            target=("call", self.result.trace.call_id),
            new={"to": action.to, "reason": action.reason_code, "message": action.message},
        )  # fmt: skip


def mark_heard(session: Session, message_slots: tuple[str, ...]) -> None:
    ids = [int(s[len(VOICEMAIL_PREFIX) :]) for s in message_slots if s.startswith(VOICEMAIL_PREFIX)]
    if ids:
        session.execute(
            update(VoicemailMessage).where(VoicemailMessage.id.in_(ids)).values(heard=True)
        )


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
