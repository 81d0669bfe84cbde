"""The one driver of the call engine: every action of `pbx.engine` is carried out here, for
every kind of call.

A call is driven the same way whatever is at the other end: events go into the pure engine
(`pbx.engine.step`), and each action that comes out is carried out by one of two halves:

- the **phone** (`Phone`, a small port): what the caller hears and does — play a message or
  a tone, start a timer, ring a user or an outside number, record, play back a take, hang
  up — and where a recorded take can be had. Each kind of call has its own phone: the
  simulator's (`pbx call`, test calls, traffic), the browser softphone's (steps in JSON), a
  real SIP/RTP channel.
- the **server's share** (`CallRecords`), the same for every kind of call: deposit a
  voicemail, save or delete a personal greeting, store a recorded take as a new message
  version, mark messages heard, check a voicemail PIN, audit a refused leg, write the call-log
  rows (one mapping from the engine's words to the call log's: `calllog.rows`) and, once a
  call placed outside legs, run the fraud caps.

`CallDriver` runs a call that is happening now (feed an event, get it carried out);
`replay` carries out the actions of a call the simulator has already run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from pbx.engine import DialplanSnapshot, step
from pbx.engine import actions as a
from pbx.engine.events import Event, PinChecked
from pbx.engine.states import CallState
from pbx.errors import NotFound
from pbx.services.audit import log as audit
from pbx.services.calllog import rows as call_rows
from pbx.services.calls.live_snapshot import VOICEMAIL_PREFIX
from pbx.services.common.actor import Actor
from pbx.services.fraud import guard as fraud_guard
from pbx.services.library import messages as library
from pbx.services.people import greetings, presence, voicemail, voicemail_pin
from storage.blobs import BlobStore
from storage.models import (
    CallLogEntry,
    MessageSlot,
    Tenant,
    User,
    VoicemailBox,
    VoicemailMessage,
)

OUTSIDE_DIRECTIONS = frozenset({"forwarded", "outbound"})


@dataclass(frozen=True)
class Take:
    """A recording made during a call, already in the master format (8 kHz mono WAV);
    `original` is what the phone sent, kept with the version when there is one."""

    master: bytes
    duration_ms: int
    original: bytes | None = None


class Phone(Protocol):
    """What differs between kinds of call. Methods the engine's actions map to one to one."""

    def play(self, action: a.PlayMessage) -> None: ...
    def tone(self, action: a.PlayTone) -> None: ...
    def start_timer(self, action: a.StartTimer) -> None: ...
    def ring(self, action: a.RingUser | a.DialExternal) -> None: ...
    def record(self, action: a.RecordInto) -> None: ...
    def play_take(self, action: a.PlayRecording) -> None: ...
    def hang_up(self, action: a.HangUp) -> None: ...
    def finished(self, action: a.CallbackFinished) -> None: ...
    def take(self, take: int) -> Take | None: ...
    def discard(self, take: int | None) -> None: ...


class QuietPhone:
    """A phone that does nothing and recorded nothing: the base of phones that only care
    about a few of the actions."""

    def play(self, action: a.PlayMessage) -> None:
        pass

    def tone(self, action: a.PlayTone) -> None:
        pass

    def start_timer(self, action: a.StartTimer) -> None:
        pass

    def ring(self, action: a.RingUser | a.DialExternal) -> None:
        pass

    def record(self, action: a.RecordInto) -> None:
        pass

    def play_take(self, action: a.PlayRecording) -> None:
        pass

    def hang_up(self, action: a.HangUp) -> None:
        pass

    def finished(self, action: a.CallbackFinished) -> None:
        pass

    def take(self, take: int) -> Take | None:
        return None

    def discard(self, take: int | None) -> None:
        pass


@dataclass
class CallLedger:
    """What the server keeps about one call while it runs: who it belongs to, when it
    started, and what it has written so far. It outlives database sessions (a real call
    spans many short units of work)."""

    call_id: str
    tenant_id: int
    started_at: datetime
    kind: str = "call"  # "call" (someone dialled in or out) or "callback" (record by phone)
    owner_user_id: int | None = None  # a live call with one person: every row is theirs
    slot_id: int | None = None  # the slot a record-by-phone call records into
    user_ids: Mapping[str, int] = field(default_factory=dict)  # extension → users.id
    first_user: int | None = None
    outside_legs: bool = False
    call_log_ids: list[int] = field(default_factory=list)
    voicemail_ids: list[int] = field(default_factory=list)
    version_ids: list[int] = field(default_factory=list)

    @classmethod
    def for_snapshot(
        cls, snap: DialplanSnapshot, call_id: str, started_at: datetime, **kw: Any
    ) -> CallLedger:
        users = {u.ext: int(u.user_id) for u in snap.users if u.user_id.isdigit()}
        return cls(call_id, int(snap.tenant_id), started_at, user_ids=users, **kw)


class CallRecords:
    """The server's share of a call's actions, in the session it is given (never commits).
    Call-log rows are collected and inserted together by `flush`."""

    def __init__(
        self, session: Session, blobs: BlobStore, actor: Actor, ledger: CallLedger
    ) -> None:
        self.session, self.blobs, self.actor, self.ledger = session, blobs, actor, ledger
        self._rows: list[dict[str, Any]] = []

    def deposit(self, action: a.DepositVoicemail, take: Take | None) -> None:
        if take is None:
            return
        box = self._box(action.box_id)
        message = voicemail.deposit(
            self.session, self.blobs, box, caller=action.caller[:16],
            received_at=self.ledger.started_at, master_wav=take.master,
            duration_ms=take.duration_ms,
        )  # fmt: skip
        self.ledger.voicemail_ids.append(message.id)

    def save_greeting(self, action: a.SaveGreeting, take: Take | None) -> None:
        if take is None:
            return
        slot = voicemail.greeting_slot(self.session, self.actor, self._owner(action.box_id))
        self._save(slot, take)

    def store_recording(self, action: a.StoreRecording, take: Take | None) -> None:
        slot = self.session.get(MessageSlot, int(action.slot_id))
        if take is None or slot is None or slot.tenant_id != self.ledger.tenant_id:
            return
        self._save(slot, take)

    def _save(self, slot: MessageSlot, take: Take) -> None:
        version = library.save_master(
            self.session, self.blobs, self.actor, slot, take.master, take.duration_ms,
            original=take.original, source="phone",
        )  # fmt: skip
        self.ledger.version_ids.append(version.id)

    def delete_greeting(self, action: a.DeleteGreeting) -> None:
        greetings.remove_greeting(self.session, self.actor, self._owner(action.box_id))

    def mark_heard(self, action: a.MarkHeard) -> None:
        mark_heard(self.session, action.message_slots)

    def set_presence(self, action: a.SetPresence) -> None:
        """*76 from the user's own extension (the engine checked who calls)."""
        user = self._user(int(action.user_id)) if action.user_id.isdigit() else None
        if user is not None:
            presence.set_dnd(self.session, self.actor, user, action.dnd, via="phone")

    def check_pin(self, action: a.VerifyPin) -> bool:
        return voicemail_pin.check_pin(self.session, action.box_id, action.pin)

    def refused(self, action: a.RefuseLeg) -> None:
        ledger = self.ledger
        target: tuple[str, object] = ("call", ledger.call_id)
        event = "call.refused"
        if ledger.kind == "callback":
            event, target = "callback.refused", ("slot", ledger.slot_id)
        audit.record(
            self.session, self.actor, event, tenant_id=ledger.tenant_id, target=target,
            new={"to": action.to, "reason": action.reason_code, "message": action.message},
        )  # fmt: skip

    def write(self, action: a.WriteCallLog) -> None:
        leg, ledger = action.leg, self.ledger
        ledger.outside_legs |= leg.direction in OUTSIDE_DIRECTIONS
        owner = ledger.owner_user_id or call_rows.user_of(leg, ledger.user_ids)
        if ledger.first_user is None:
            ledger.first_user = owner
        if owner is None and leg.leg == 1:  # the whole call: the first user it reached
            owner = ledger.first_user
        self._rows.append(call_rows.row_of(leg, ledger.started_at, owner))

    def flush(self) -> list[int]:
        """Insert the collected call-log rows (leg order); run the fraud caps once a call
        has placed legs outside the company. Returns the new rows' ids."""
        if not self._rows:
            return []
        rows = sorted(self._rows, key=lambda row: row["leg"])
        self._rows = []
        stmt = insert(CallLogEntry).returning(CallLogEntry.id, sort_by_parameter_order=True)
        ids = list(self.session.scalars(stmt, rows))
        self.ledger.call_log_ids += ids
        if self.ledger.outside_legs:
            tenant = self.session.get(Tenant, self.ledger.tenant_id)
            assert tenant is not None
            fraud_guard.enforce(self.session, self.actor, tenant, self.ledger.started_at)
        return ids

    def _box(self, box_id: str) -> VoicemailBox:
        """The company's voicemail box (the snapshot named it; anything else is NotFound)."""
        box = self.session.get(VoicemailBox, int(box_id))
        if box is None or self._user(box.user_id) is None:
            raise NotFound(f"no voicemail box {box_id}")
        return box

    def _owner(self, box_id: str) -> User:
        user = self._user(self._box(box_id).user_id)
        assert user is not None
        return user

    def _user(self, user_id: int) -> User | None:
        user = self.session.get(User, user_id)
        return user if user is not None and user.tenant_id == self.ledger.tenant_id else None


def mark_heard(session: Session, message_slots: tuple[str, ...]) -> None:
    """Messages played to their owner (333, key 1) are no longer new."""
    ids = [int(s[len(VOICEMAIL_PREFIX) :]) for s in message_slots if s.startswith(VOICEMAIL_PREFIX)]
    if ids:
        session.execute(
            update(VoicemailMessage).where(VoicemailMessage.id.in_(ids)).values(heard=True)
        )


Handler = Callable[[a.Action, Phone, CallRecords], Event | None]


def _take_then(method: str) -> Handler:
    """A handler that hands the server the take an action names."""

    def handle(action: Any, phone: Phone, records: CallRecords) -> None:
        getattr(records, method)(action, phone.take(action.take))

    return handle


def _pin(action: Any, phone: Phone, records: CallRecords) -> Event:
    return PinChecked(records.check_pin(action))


def _discard(action: Any, phone: Phone, records: CallRecords) -> None:
    phone.discard(action.take)


def _on_phone(method: str) -> Handler:
    def handle(action: Any, phone: Phone, records: CallRecords) -> None:
        getattr(phone, method)(action)

    return handle


def _on_server(method: str) -> Handler:
    def handle(action: Any, phone: Phone, records: CallRecords) -> None:
        getattr(records, method)(action)

    return handle


def _ring_all(action: Any, phone: Phone, records: CallRecords) -> None:
    """A ring_all group: every member's phone rings."""
    for ring in action.members:
        phone.ring(ring)


def _noted(action: Any, phone: Phone, records: CallRecords) -> None:
    """Actions that only say what happened (the trace shows them); nothing to do."""


_HANDLERS: dict[type, Handler] = {
    a.PlayMessage: _on_phone("play"),
    a.PlayTone: _on_phone("tone"),
    a.StartTimer: _on_phone("start_timer"),
    a.RingUser: _on_phone("ring"),
    a.DialExternal: _on_phone("ring"),
    a.RecordInto: _on_phone("record"),
    a.PlayRecording: _on_phone("play_take"),
    a.HangUp: _on_phone("hang_up"),
    a.CallbackFinished: _on_phone("finished"),
    a.DiscardRecording: _discard,
    a.DepositVoicemail: _take_then("deposit"),
    a.SaveGreeting: _take_then("save_greeting"),
    a.StoreRecording: _take_then("store_recording"),
    a.DeleteGreeting: _on_server("delete_greeting"),
    a.MarkHeard: _on_server("mark_heard"),
    a.RefuseLeg: _on_server("refused"),
    a.WriteCallLog: _on_server("write"),
    a.VerifyPin: _pin,
    a.ForwardCall: _noted,
    a.EnterVoicemail: _noted,
    a.RingGroup: _ring_all,
    a.HoursChecked: _noted,
    a.DoNotDisturb: _noted,
    a.SetPresence: _on_server("set_presence"),
}


def carry_out(actions: list[a.Action], phone: Phone, records: CallRecords) -> list[Event]:
    """Carry out `actions` in order; return the events they answer with (a PIN checked)."""
    answers: list[Event] = []
    for action in actions:
        answer = _HANDLERS[type(action)](action, phone, records)
        if answer is not None:
            answers.append(answer)
    return answers


def replay(actions: tuple[a.Action, ...], phone: Phone, records: CallRecords) -> list[int]:
    """Carry out what a simulated call did (the simulator already answered its questions,
    PINs included) and write its call log. Returns the call-log ids."""
    carry_out([x for x in actions if not isinstance(x, a.VerifyPin)], phone, records)
    return records.flush()


class CallDriver:
    """One call happening now: each event goes through the engine and its actions are
    carried out at once (answers such as a checked PIN are fed straight back)."""

    def __init__(self, snapshot: DialplanSnapshot, state: CallState, phone: Phone) -> None:
        self.snapshot, self.state, self.phone = snapshot, state, phone

    def feed(self, event: Event, records: CallRecords) -> list[a.Action]:
        """Apply one event; return every action it led to (answers included)."""
        self.state, actions = step(self.snapshot, self.state, event)
        done = list(actions)
        for answer in carry_out(actions, self.phone, records):
            done += self.feed(answer, records)
        return done

    def run(self, actions: list[a.Action], records: CallRecords) -> list[a.Action]:
        """Carry out actions the engine gave outside `feed` (a call's first step)."""
        done = list(actions)
        for answer in carry_out(actions, self.phone, records):
            done += self.feed(answer, records)
        return done
