"""Live calls with a person at the other end, driven by the pure call engine.

- "Spela in filen" → "Initiera samtal": `start_callback` has the switchboard call the user's
  own registered number (E.164) or extension (any other number is refused) to record a
  message slot.
- A call to the voicemail service number 333 from the user's phone: `dial_service`.

The phone (the browser softphone, or `pbx callback answer`) answers, presses keys, sends what
it recorded and hangs up through `feed`; each call of `feed` steps the engine through the one
driver (`calls.driver`), which carries out the server's share and tells the browser's phone
(`calls.phone_steps`) what to do next. The engine's state is kept in the `live_calls` row
between events, so the next event may reach any worker. A call belongs to its user: nobody
else can see or drive it (NotFound, like an id that does not exist).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.engine import CallState, DialplanSnapshot, step
from pbx.engine.actions import Action
from pbx.engine.callback import start_callback as engine_callback
from pbx.engine.events import (
    Answer,
    AudioReceived,
    Busy,
    Dial,
    Dtmf,
    Event,
    Hangup,
    NoAnswer,
    Timer,
)
from pbx.engine.states import CallbackRecording, Ended, ServiceRecording, new_call
from pbx.errors import Conflict, NotFound, ValidationError
from pbx.media.audio import normalise_audio
from pbx.media.errors import AudioError
from pbx.policies.destinations import InvalidNumber, parse_number
from pbx.services.calls.codec import decode_state, encode_state
from pbx.services.calls.driver import CallDriver, CallLedger, CallRecords
from pbx.services.calls.live_snapshot import live_snapshot
from pbx.services.calls.phone_callbacks import ON_PHONE_STATUSES
from pbx.services.calls.phone_steps import StepsPhone, drop_takes, take_of
from pbx.services.common.actor import Actor
from pbx.services.library.messages import check_may_edit
from storage.blobs import BlobStore
from storage.models import LiveCall, LiveCallTake, MessageSlot, PhoneNumber, Tenant, User, utcnow

SERVICE_NUMBER = "333"
MAX_TAKE_BYTES = 15_000_000
RINGING_FOR = timedelta(minutes=5)
STALE_AFTER = timedelta(hours=1)
EVENTS = ("answer", "decline", "busy", "no_answer", "dtmf", "hangup", "timer")


@dataclass(frozen=True)
class PhoneEvent:
    """What the phone did: answered, declined, pressed `digit`, waited (timer), hung up."""

    kind: str
    digit: str = ""

    def __post_init__(self) -> None:
        if self.kind not in EVENTS:
            raise ValidationError("event", f"unknown phone event {self.kind!r}")


def own_number(user: User, number: str, home_region: str = "SE") -> str:
    """The number must be one registered on the user's own account: their mobile (E.164 or
    national) or their extension (the desk phone). SECURITY.md 16: changing the mobile is a
    separate, re-authenticated action, and an extension is internal, so no number typed in
    can make the switchboard call an outsider. Another extension (a colleague's) is "not
    your own", not a badly written number."""
    text = number.strip()
    if user.extension and text == user.extension:
        return user.extension
    if text.isdigit() and not text.startswith("0"):
        raise _not_own()
    try:
        e164 = parse_number(number, home_region)
    except InvalidNumber as exc:
        raise ValidationError("number", exc.message, code="invalid_number") from None
    if not user.mobile or e164 != user.mobile:
        raise _not_own()
    return e164


def _not_own() -> ValidationError:
    return ValidationError(
        "number",
        "You can only be called on your own registered number or extension.",
        code="not_own",
    )


def start_callback(
    session: Session, blobs: BlobStore, actor: Actor, user: User, slot: MessageSlot, number: str
) -> LiveCall:
    """ "Initiera samtal": the switchboard rings the user's phone to record `slot`."""
    check_may_edit(session, actor, slot)
    tenant = session.get(Tenant, user.tenant_id) if user.tenant_id else None
    e164 = own_number(user, number, tenant.home_region if tenant else "SE")
    call = _new_call(session, user, "callback", e164, slot)
    snapshot = live_snapshot(session, blobs, _tenant(session, call), user, slot)
    caller_id = company_number(session, call.tenant_id)
    state, actions = engine_callback(snapshot, call.id, e164, str(slot.id), caller_id)
    return _after(session, blobs, actor, call, snapshot, (state, actions))


def company_number(session: Session, tenant_id: int) -> str:
    """Who the switchboard's own calls come from: the company's first number, else the
    service number (a company without numbers still records by phone)."""
    stmt = select(PhoneNumber.e164).where(PhoneNumber.tenant_id == tenant_id)
    return session.scalar(stmt.order_by(PhoneNumber.id).limit(1)) or SERVICE_NUMBER


def dial_service(session: Session, blobs: BlobStore, actor: Actor, user: User) -> LiveCall:
    """The user calls 333 from the site's softphone: they are signed in, so the call is
    verified (straight to the menu), unlike a call that only shows their number."""
    caller = user.mobile or user.extension
    if not caller:
        raise ValidationError("number", "You have no number to call from.", code="no_number")
    call = _new_call(session, user, "service", caller, None)
    snapshot = live_snapshot(session, blobs, _tenant(session, call), user, None)
    state, actions = step(
        snapshot, new_call(call.id), Dial(caller, SERVICE_NUMBER, caller_verified=True)
    )
    return _after(session, blobs, actor, call, snapshot, (state, actions))


def load(session: Session, actor: Actor, token: str, lock: bool = False) -> LiveCall:
    """The actor's own call by its token; anyone else's (or none) is NotFound. The command
    line (the system) answers any call by its token, as the phone it rings. `lock`: the row
    is held until the unit of work ends (SELECT ... FOR UPDATE where the database has it)."""
    valid = isinstance(token, str) and len(token) == 32
    call = session.get(LiveCall, token, with_for_update=lock) if valid else None
    if call is None or (call.user_id != actor.user_id and actor.role != "system"):
        raise NotFound("no such call")
    return call


def answer(session: Session, blobs: BlobStore, actor: Actor, token: str) -> LiveCall:
    """Answer the switchboard's ringing call (a page's softphone). The row is locked first,
    so of two windows or two web processes answering at once, one gets the call and the
    other a Conflict: a call is carried by one connection."""
    call = load(session, actor, token, lock=True)
    if call.status != "ringing":
        raise Conflict("The call is no longer ringing.", code="not_ringing")
    return feed(session, blobs, actor, call, PhoneEvent("answer"))


def ringing_for(session: Session, user: User) -> LiveCall | None:
    """The newest call ringing on the user's phone (started in the last few minutes)."""
    since = utcnow() - RINGING_FOR
    stmt = (
        select(LiveCall)
        .where(LiveCall.user_id == user.id, LiveCall.status == "ringing")
        .where(LiveCall.created_at >= since)
        .order_by(LiveCall.created_at.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def feed(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    call: LiveCall,
    event: PhoneEvent,
    audio: bytes | None = None,
    heard: Heard | None = None,
) -> LiveCall:
    """Apply what the phone did (with the take it recorded, if any) and return the call.
    `audio` is a recording the browser uploaded; `heard` one the server recorded itself
    from the call's audio stream (WebRTC), already in the master format."""
    if call.status == "ended":
        call.steps = []
        return call
    if call.status in ON_PHONE_STATUSES:  # a call worker carries it: events come from the phone
        raise Conflict("The call is carried by your registered phone.", code="on_phone")
    user = session.get(User, call.user_id)
    slot = session.get(MessageSlot, call.slot_id) if call.slot_id else None
    assert user is not None
    snapshot = live_snapshot(session, blobs, _tenant(session, call), user, slot)
    phone = StepsPhone(session, call)
    driver = CallDriver(snapshot, decode_state(call.state), phone)
    records = _records(session, blobs, _as_owner(actor, user), call)
    done: list[Action] = []
    if audio is not None:
        done = _take(session, driver, records, call, audio)
    elif heard is not None:
        done = _heard(session, driver, records, call, heard)
    done += driver.feed(_event(event, _clock(call)), records)
    return _finish(session, call, driver.state, phone, records, done)


def _as_owner(actor: Actor, user: User) -> Actor:
    """Changes made in a call are the call owner's (also when the CLI answers for them)."""
    if actor.user_id == user.id:
        return actor
    return Actor(user.id, user.email, user.role, user.tenant_id, actor.ip)


def _event(event: PhoneEvent, at: float) -> Event:
    kinds: dict[str, Event] = {
        "answer": Answer(at=at), "decline": Busy(at=at), "busy": Busy(at=at),
        "no_answer": NoAnswer(at=at), "hangup": Hangup(at=at), "timer": Timer(at=at),
    }  # fmt: skip
    if event.kind == "dtmf":
        return Dtmf(event.digit, at=at)
    return kinds[event.kind]


def _take(
    session: Session, driver: CallDriver, records: CallRecords, call: LiveCall, audio: bytes
) -> list[Action]:
    """Store what the phone recorded as the current take and tell the engine how long it is
    (silence, or anything that is not audio, counts as nothing heard)."""
    phase = driver.state.phase
    if not isinstance(phase, CallbackRecording | ServiceRecording):
        return []
    try:
        master = normalise_audio(audio, max_bytes=MAX_TAKE_BYTES, max_seconds=300)
    except AudioError:
        return driver.feed(AudioReceived(0.0, silent=True, at=_clock(call)), records)
    session.add(
        LiveCallTake(call_id=call.id, take=phase.take, master=master.wav,
                     original=audio, duration_ms=master.duration_ms)
    )  # fmt: skip
    session.flush()
    received = AudioReceived(master.duration_ms / 1000, at=_clock(call))
    return driver.feed(received, records)


@dataclass(frozen=True)
class Heard:
    """A take the server recorded from the call's audio stream: master WAV (empty when
    nothing was heard), its length, and whether it holds any speech."""

    master: bytes
    duration_ms: int
    silent: bool


def _heard(
    session: Session, driver: CallDriver, records: CallRecords, call: LiveCall, heard: Heard
) -> list[Action]:
    phase = driver.state.phase
    if not isinstance(phase, CallbackRecording | ServiceRecording):
        return []
    if heard.silent or not heard.master:
        silence = AudioReceived(heard.duration_ms / 1000, silent=True, at=_clock(call))
        return driver.feed(silence, records)
    session.add(
        LiveCallTake(call_id=call.id, take=phase.take, master=heard.master,
                     original=heard.master, duration_ms=heard.duration_ms)
    )  # fmt: skip
    session.flush()
    return driver.feed(AudioReceived(heard.duration_ms / 1000, at=_clock(call)), records)


def take_audio(session: Session, call: LiveCall, take: int) -> bytes:
    """A take of this call, for the phone to play back (key 1 in review, key 4 in 333)."""
    recorded = take_of(session, call, take)
    if recorded is None:
        raise NotFound("no such recording in this call")
    return recorded.master


def _new_call(
    session: Session, user: User, kind: str, number: str, slot: MessageSlot | None
) -> LiveCall:
    if user.tenant_id is None:
        raise ValidationError("user", "operators have no phone in a company")
    now = utcnow()
    expire_stale(session, now)  # recordings of abandoned calls are not kept
    call = LiveCall(
        id=secrets.token_hex(16), tenant_id=user.tenant_id, user_id=user.id, kind=kind,
        slot_id=slot.id if slot else None, number=number, state={}, steps=[],
        status="ringing", created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(call)
    session.flush()
    return call


def _records(session: Session, blobs: BlobStore, actor: Actor, call: LiveCall) -> CallRecords:
    """The server's share of this call: every row and recording belongs to its user."""
    ledger = CallLedger(
        call.id, call.tenant_id, call.created_at, kind=call.kind,
        owner_user_id=call.user_id, slot_id=call.slot_id,
    )  # fmt: skip
    return CallRecords(session, blobs, actor, ledger)


def _after(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    call: LiveCall,
    snapshot: DialplanSnapshot,
    first: tuple[CallState, list[Action]],
) -> LiveCall:
    """Carry out the actions of a call's first step."""
    state, actions = first
    phone = StepsPhone(session, call)
    driver = CallDriver(snapshot, state, phone)
    records = _records(session, blobs, actor, call)
    done = driver.run(actions, records)
    return _finish(session, call, driver.state, phone, records, done)


def _finish(
    session: Session,
    call: LiveCall,
    state: CallState,
    phone: StepsPhone,
    records: CallRecords,
    actions: list[Action],
) -> LiveCall:
    """Write the call log, keep the engine's state and the phone's next steps in the row."""
    records.flush()
    call.state = encode_state(state)
    call.steps = phone.steps
    call.updated_at = utcnow()
    if isinstance(state.phase, Ended):
        call.status, call.ended_at = "ended", call.updated_at
        call.outcome = (phone.finished_status or state.phase.disposition)[:20]
        drop_takes(session, call)
    elif call.kind == "service" or state.answered_at is not None:
        call.status = "active"
    session.flush()
    return call


def _clock(call: LiveCall) -> float:
    return max(0.0, (utcnow() - call.created_at).total_seconds())


def _tenant(session: Session, call: LiveCall) -> Tenant:
    tenant = session.get(Tenant, call.tenant_id)
    assert tenant is not None
    return tenant


def expire_stale(session: Session, now: datetime | None = None) -> int:
    """End calls nobody has touched for an hour (a closed browser tab) and drop their
    recordings; run whenever a new call starts."""
    now = now or utcnow()
    stale = select(LiveCall).where(
        LiveCall.status != "ended", LiveCall.updated_at < now - STALE_AFTER
    )
    calls = list(session.scalars(stale))
    for call in calls:
        call.status, call.ended_at, call.outcome = "ended", now, "expired"
        drop_takes(session, call)
    return len(calls)
