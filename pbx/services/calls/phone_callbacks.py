"""Record by phone over SIP: the hand-over of a "Initiera samtal" call from the web to a call
worker, through the `live_calls` row both can see.

The web starts the callback as always (`live.start_callback`: the engine checked the number
and the slot, and waits in `CallbackRinging`). When the user's phone can really be rung —
their own extension with a phone registered now, or their own mobile while the front has a
trunk to call it through — `hand_over` marks the row `dialling` instead of leaving it
`ringing` for the browser softphone. A worker polls for `dialling` rows (`waiting`) and
takes one with `claim`: a single UPDATE … WHERE status = 'dialling', so of several workers
exactly one wins. From then on the worker drives the call in memory and writes the row when
the phone answers (`active`) and when the call ends (`ended`, with the engine's outcome).

A row nobody claims (no worker running) stays `dialling` until `live.expire_stale` ends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from pbx.engine import CallState, DialplanSnapshot
from pbx.engine import actions as a
from pbx.engine.callback import RING_TIME
from pbx.engine.states import Ended
from pbx.services.calls.codec import decode_state, encode_state
from pbx.services.calls.driver import CallLedger
from pbx.services.calls.live_snapshot import live_snapshot
from pbx.services.calls.phone_steps import drop_takes
from pbx.services.common.actor import Actor
from pbx.services.people import phones
from storage.blobs import BlobStore
from storage.models import LiveCall, MessageSlot, Tenant, User, utcnow

DIALLING = "dialling"  # waiting for a call worker to ring the phone
ON_PHONE = "phone"  # a worker rings the phone
ON_PHONE_STATUSES = frozenset({DIALLING, ON_PHONE})
CLAIM_WITHIN = timedelta(minutes=2)  # older hand-overs are not rung any more


def hand_over(session: Session, call: LiveCall, *, trunk: bool) -> bool:
    """Give a callback that just started to the call workers when a real phone can take
    it: the user's extension with a registered phone, or their mobile through the trunk.
    Otherwise (no phone, no trunk) the browser softphone rings as before. True when
    handed over."""
    if call.kind != "callback" or call.status != "ringing":
        return False
    user = session.get(User, call.user_id)
    assert user is not None
    by_extension = bool(user.extension) and call.number == user.extension
    if by_extension and not phones.contacts_of(session, user.id):
        return False
    if not by_extension and not (trunk and call.number == user.mobile):
        return False
    call.status, call.steps = DIALLING, []
    session.flush()
    return True


def waiting(session: Session, limit: int = 20) -> list[str]:
    """Hand-overs no worker has taken yet (the newest few minutes'), oldest first."""
    stmt = (
        select(LiveCall.id)
        .where(LiveCall.status == DIALLING, LiveCall.kind == "callback")
        .where(LiveCall.created_at >= utcnow() - CLAIM_WITHIN)
        .order_by(LiveCall.created_at)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def claim(session: Session, call_id: str) -> bool:
    """Take a hand-over for this worker; False when another worker was first."""
    stmt = (
        update(LiveCall)
        .where(LiveCall.id == call_id, LiveCall.status == DIALLING)
        .values(status=ON_PHONE, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], session.execute(stmt))
    return result.rowcount == 1


@dataclass(frozen=True)
class Claimed:
    """What a worker needs to drive a claimed callback."""

    call_id: str
    tenant_id: int
    number: str  # the phone's: the user's extension or mobile
    snapshot: DialplanSnapshot
    state: CallState
    ring: a.RingUser | a.DialExternal
    actor: Actor  # the user: the new version is theirs
    caller_id: str  # what the phone shows: the company's number


def load(session: Session, blobs: BlobStore, call_id: str, ring_seconds: int | None) -> Claimed:
    call = session.get(LiveCall, call_id)
    assert call is not None and call.status == ON_PHONE
    user = session.get(User, call.user_id)
    slot = session.get(MessageSlot, call.slot_id) if call.slot_id else None
    tenant = session.get(Tenant, call.tenant_id)
    assert user is not None and tenant is not None
    snapshot = live_snapshot(session, blobs, tenant, user, slot)
    state = decode_state(call.state)
    seconds = ring_seconds or RING_TIME
    ring: a.RingUser | a.DialExternal
    if user.extension and call.number == user.extension:
        ring = a.RingUser(user.extension, str(user.id), seconds)
    else:
        ring = a.DialExternal(call.number, seconds)
    actor = Actor(user.id, user.email, user.role, user.tenant_id)
    return Claimed(call.id, call.tenant_id, call.number, snapshot, state, ring, actor, state.caller)


def ledger(claimed: Claimed, session: Session) -> CallLedger:
    """The call's ledger, as the web's would be: every row belongs to the user."""
    call = session.get(LiveCall, claimed.call_id)
    assert call is not None
    return CallLedger(
        call.id, call.tenant_id, call.created_at, kind="callback",
        owner_user_id=call.user_id, slot_id=call.slot_id,
    )  # fmt: skip


def progress(session: Session, call_id: str, state: CallState, outcome: str | None) -> None:
    """Keep the row in step with the call: answered → active; over → ended (its takes,
    kept in the worker, were never written here)."""
    call = session.get(LiveCall, call_id)
    if call is None or call.status == "ended":
        return
    call.state, call.updated_at = encode_state(state), utcnow()
    if isinstance(state.phase, Ended):
        call.status, call.ended_at = "ended", call.updated_at
        call.outcome = (outcome or state.phase.disposition)[:20]
        drop_takes(session, call)
    elif state.answered_at is not None:
        call.status = "active"
    session.flush()


def interrupted(session: Session, call_id: str) -> None:
    """The worker stopped while the call ran (shut down): the row says so."""
    call = session.get(LiveCall, call_id)
    if call is not None and call.status != "ended":
        call.status, call.ended_at, call.outcome = "ended", utcnow(), "interrupted"
        drop_takes(session, call)
