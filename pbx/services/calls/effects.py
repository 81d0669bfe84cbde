"""What the server does for the engine during a live call: store a recorded take as a message
version ("Spela in filen"), save or delete the personal greeting (333 keys 5/0 and 6), mark
messages heard, write the call log, audit refused legs, drop takes.

Takes are already in the master format (normalised when the phone sent them); the original
recording (WebM/Opus from a browser, WAV from the command line) is kept with the version.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from pbx.engine import actions as a
from pbx.services.audit import log as audit
from pbx.services.calllog import entries as calllog
from pbx.services.calls.live_snapshot import VOICEMAIL_PREFIX
from pbx.services.common.actor import Actor
from pbx.services.library import messages as library
from pbx.services.people import greetings, voicemail
from storage.blobs import BlobStore
from storage.models import (
    LiveCall,
    LiveCallTake,
    MediaVersion,
    MessageSlot,
    User,
    VoicemailMessage,
)

# The engine's words → the call log's (its columns are short and its lists fixed).
DIRECTIONS = {"callback": "outbound", "service": "internal"}
DISPOSITIONS = {"unavailable": "no_answer", "service_failed": "failed", "pin_failed": "failed"}


def perform(
    session: Session, blobs: BlobStore, actor: Actor, call: LiveCall, actions: list[a.Action]
) -> None:
    """Carry out the server's share of `actions`, in order."""
    for action in actions:
        if isinstance(action, a.StoreRecording):
            _store(session, blobs, actor, call, action.take)
        elif isinstance(action, a.SaveGreeting):
            _save_greeting(session, blobs, actor, call, action.take)
        elif isinstance(action, a.DeleteGreeting):
            greetings.remove_greeting(session, actor, _user(session, call))
        elif isinstance(action, a.DiscardRecording):
            drop_takes(session, call, action.take)
        elif isinstance(action, a.MarkHeard):
            _mark_heard(session, action.message_slots)
        elif isinstance(action, a.WriteCallLog):
            _call_log(session, call, action.leg)
        elif isinstance(action, a.RefuseLeg):
            _refused(session, actor, call, action)


def take_of(session: Session, call: LiveCall, take: int) -> LiveCallTake | None:
    stmt = select(LiveCallTake).where(LiveCallTake.call_id == call.id, LiveCallTake.take == take)
    return session.scalar(stmt.order_by(LiveCallTake.id.desc()).limit(1))


def drop_takes(session: Session, call: LiveCall, take: int | None = None) -> None:
    """Forget takes (one, or all when the call ends): a recording is stored or gone."""
    stmt = delete(LiveCallTake).where(LiveCallTake.call_id == call.id)
    if take is not None:
        stmt = stmt.where(LiveCallTake.take == take)
    session.execute(stmt)


def _user(session: Session, call: LiveCall) -> User:
    user = session.get(User, call.user_id)
    assert user is not None
    return user


def _store(
    session: Session, blobs: BlobStore, actor: Actor, call: LiveCall, take: int
) -> MediaVersion | None:
    recorded = take_of(session, call, take)
    slot = session.get(MessageSlot, call.slot_id) if call.slot_id else None
    if recorded is None or slot is None:
        return None
    return library.save_master(
        session, blobs, actor, slot, recorded.master, recorded.duration_ms,
        original=recorded.original, source="phone",
    )  # fmt: skip


def _save_greeting(
    session: Session, blobs: BlobStore, actor: Actor, call: LiveCall, take: int
) -> None:
    recorded = take_of(session, call, take)
    if recorded is None:
        return
    slot = voicemail.greeting_slot(session, actor, _user(session, call))
    library.save_master(
        session, blobs, actor, slot, recorded.master, recorded.duration_ms,
        original=recorded.original, source="phone",
    )  # fmt: skip


def _mark_heard(session: Session, message_slots: tuple[str, ...]) -> None:
    ids = [int(s[len(VOICEMAIL_PREFIX) :]) for s in message_slots if s.startswith(VOICEMAIL_PREFIX)]
    if ids:
        session.execute(
            update(VoicemailMessage).where(VoicemailMessage.id.in_(ids)).values(heard=True)
        )


def _call_log(session: Session, call: LiveCall, leg: a.CallLogLeg) -> None:
    def at(seconds: float | None) -> object:
        return None if seconds is None else call.created_at + timedelta(seconds=seconds)

    disposition = DISPOSITIONS.get(leg.disposition, leg.disposition)
    row = {
        "call_id": call.id, "leg": leg.leg, "tenant_id": call.tenant_id,
        "user_id": call.user_id, "caller": leg.caller[:16], "callee": leg.callee[:16],
        "direction": DIRECTIONS.get(leg.direction, leg.direction),
        "started_at": at(leg.started_at), "answered_at": at(leg.answered_at),
        "ended_at": at(leg.ended_at),
        "disposition": disposition if len(disposition) <= 10 else "failed",
        "refused_reason": leg.refused_reason,
    }  # fmt: skip
    calllog.write_entries(session, [row])


def _refused(session: Session, actor: Actor, call: LiveCall, refused: a.RefuseLeg) -> None:
    audit.record(
        session, actor, "callback.refused", tenant_id=call.tenant_id,
        target=("slot", call.slot_id), new={"to": refused.to, "reason": refused.reason_code},
    )  # fmt: skip
