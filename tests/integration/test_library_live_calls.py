"""Live calls on SQLite and PostgreSQL with real audio: "Spela in filen" (the switchboard
calls the user's own number and records a message) and 333 (5 record, 0 end, 4 listen,
6 delete), through the pure engine, stored as message versions."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pbx.errors import Conflict, NotFound, ValidationError
from pbx.media.audio import duration_ms, normalise_audio
from pbx.services.calls import live as live_calls
from pbx.services.calls.live import PhoneEvent
from pbx.services.common.actor import Actor
from pbx.services.library import messages as library
from pbx.services.people import greetings
from storage.blobs import FileBlobStore
from storage.db import begin_for_writing
from storage.models import CallLogEntry, LiveCall, LiveCallTake, MessageSlot, Tenant, User
from tests.builders import make_tenant, make_user
from tests.library_media import encode, silent_wav, speech_wav


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.email, user.role, user.tenant_id)


@pytest.fixture
def tenant(session: Session) -> Tenant:
    return make_tenant(session)


@pytest.fixture
def admin(session: Session, tenant: Tenant) -> User:
    return make_user(session, tenant, role="company_admin", mobile="+46735550101")


@pytest.fixture
def slot(session: Session, tenant: Tenant, admin: User) -> MessageSlot:
    return library.create_message(
        session, actor_of(admin), tenant, kind="welcome", name="Välkommen",
        script_text="Välkommen till oss!",
    )  # fmt: skip


def did(call: LiveCall) -> list[str]:
    return [s["do"] for s in call.steps]


def test_record_the_file_by_phone_stores_what_was_said_as_a_new_version(
    session: Session, file_blobs: FileBlobStore, admin: User, slot: MessageSlot
) -> None:
    me = actor_of(admin)
    call = live_calls.start_callback(session, file_blobs, me, admin, slot, "+46 73 555 01 01")
    assert (call.status, did(call)) == ("ringing", ["ring"])

    call = live_calls.feed(session, file_blobs, me, call, PhoneEvent("answer"))
    assert did(call) == ["play", "tone", "record", "timer"]
    assert call.steps[0]["prompt"] == "sys:callback_instructions"
    spoken = encode(speech_wav(3.0), "webm")
    call = live_calls.feed(session, file_blobs, me, call, PhoneEvent("hangup"), audio=spoken)

    assert (call.status, call.outcome) == ("ended", "recorded")
    version = library.versions(session, file_blobs, slot)[0].version
    assert (version.source, slot.current_version_id) == ("phone", version.id)
    expected = normalise_audio(spoken, max_bytes=10**7, max_seconds=60).duration_ms
    assert duration_ms(file_blobs.get(version.blob_sha256)) == expected > 2500
    assert version.original_sha256 and file_blobs.get(version.original_sha256) == spoken
    assert session.scalars(select(LiveCallTake)).all() == []
    legs = session.scalars(select(CallLogEntry).where(CallLogEntry.call_id == call.id)).all()
    assert [leg.direction for leg in legs] == ["outbound"]


def test_listen_record_again_and_the_last_take_is_kept(
    session: Session, file_blobs: FileBlobStore, admin: User, slot: MessageSlot
) -> None:
    me = actor_of(admin)
    call = live_calls.start_callback(session, file_blobs, me, admin, slot, "+46735550101")
    call = live_calls.feed(session, file_blobs, me, call, PhoneEvent("answer"))
    first = speech_wav(2.0, seed=1)
    call = live_calls.feed(session, file_blobs, me, call, PhoneEvent("dtmf", "#"), audio=first)
    assert did(call) == ["play", "timer"] and call.steps[0]["prompt"] == "sys:callback_review"

    call = live_calls.feed(session, file_blobs, me, call, PhoneEvent("dtmf", "1"))
    assert did(call)[0] == "play_take"
    assert duration_ms(live_calls.take_audio(session, call, 1)) > 1500
    call = live_calls.feed(session, file_blobs, me, call, PhoneEvent("dtmf", "2"))
    assert "record" in did(call)
    second = speech_wav(4.0, seed=2)
    call = live_calls.feed(session, file_blobs, me, call, PhoneEvent("hangup"), audio=second)

    assert call.outcome == "recorded"
    rows = library.versions(session, file_blobs, slot)
    expected = normalise_audio(second, max_bytes=10**7, max_seconds=60).duration_ms
    assert len(rows) == 1 and rows[0].version.duration_ms == expected


def test_silence_is_not_stored_and_the_caller_is_asked_again(
    session: Session, file_blobs: FileBlobStore, admin: User, slot: MessageSlot
) -> None:
    me = actor_of(admin)
    call = live_calls.start_callback(session, file_blobs, me, admin, slot, "+46735550101")
    call = live_calls.feed(session, file_blobs, me, call, PhoneEvent("answer"))

    call = live_calls.feed(
        session, file_blobs, me, call, PhoneEvent("dtmf", "#"), audio=silent_wav()
    )

    assert call.steps[0] == {"do": "play", "prompt": "sys:callback_no_audio"}
    assert "record" in did(call) and slot.current_version_id is None


def test_only_your_own_registered_number_can_be_called(
    session: Session, file_blobs: FileBlobStore, admin: User, slot: MessageSlot
) -> None:
    colleague = make_user(session, session.get(Tenant, admin.tenant_id), role="user")
    for number in ("+46701234567", "0735550199", "+4690012345", colleague.extension, "999"):
        with pytest.raises(ValidationError) as refused:
            live_calls.start_callback(session, file_blobs, actor_of(admin), admin, slot, number)
        assert refused.value.field == "number"
    assert session.scalars(select(LiveCall)).all() == []


def test_the_own_mobile_typed_in_the_national_form_is_the_own_number(
    session: Session, file_blobs: FileBlobStore, admin: User, slot: MessageSlot
) -> None:
    call = live_calls.start_callback(
        session, file_blobs, actor_of(admin), admin, slot, "0735550101"
    )
    assert call.number == "+46735550101" and call.status == "ringing"


def test_the_callback_can_ring_your_own_extension(
    session: Session, file_blobs: FileBlobStore, admin: User, slot: MessageSlot
) -> None:
    call = live_calls.start_callback(
        session, file_blobs, actor_of(admin), admin, slot, f" {admin.extension} "
    )
    assert (call.status, did(call)) == ("ringing", ["ring"])
    assert call.steps[0]["extension"] == admin.extension


def test_a_declined_call_ends_and_changes_nothing(
    session: Session, file_blobs: FileBlobStore, admin: User, slot: MessageSlot
) -> None:
    me = actor_of(admin)
    call = live_calls.start_callback(session, file_blobs, me, admin, slot, "+46735550101")

    call = live_calls.feed(session, file_blobs, me, call, PhoneEvent("decline"))

    assert (call.status, call.outcome) == ("ended", "busy")
    assert slot.current_version_id is None


def test_a_call_belongs_to_its_user(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant, admin: User, slot: MessageSlot
) -> None:
    call = live_calls.start_callback(
        session, file_blobs, actor_of(admin), admin, slot, "+46735550101"
    )
    colleague = make_user(session, tenant, role="company_admin")

    with pytest.raises(NotFound):
        live_calls.load(session, actor_of(colleague), call.id)
    with pytest.raises(NotFound):
        live_calls.load(session, actor_of(admin), "0" * 32)
    assert live_calls.load(session, actor_of(admin), call.id) is call


def test_333_records_plays_and_deletes_the_personal_greeting(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    user = make_user(session, tenant)
    me = actor_of(user)
    call = live_calls.dial_service(session, file_blobs, me, user)
    assert call.steps[0] == {"do": "play", "prompt": "sys:vm_menu"}

    call = live_calls.feed(session, file_blobs, me, call, PhoneEvent("dtmf", "5"))
    assert did(call) == ["play", "tone", "record", "timer"]
    spoken = encode(speech_wav(2.5), "webm")
    call = live_calls.feed(session, file_blobs, me, call, PhoneEvent("dtmf", "0"), audio=spoken)
    mine = greetings.greeting_of(session, file_blobs, user)
    assert mine.status == "ok" and mine.version is not None and mine.version.source == "phone"
    assert call.steps[0] == {"do": "play", "prompt": "sys:vm_greeting_saved"}

    call = live_calls.feed(session, file_blobs, me, call, PhoneEvent("dtmf", "4"))
    assert did(call)[0] == "play_take"
    call = live_calls.feed(session, file_blobs, me, call, PhoneEvent("dtmf", "6"))
    assert greetings.greeting_of(session, file_blobs, user).status == "none"
    call = live_calls.feed(session, file_blobs, me, call, PhoneEvent("dtmf", "4"))
    prompts = [s.get("prompt") for s in call.steps[:2]]
    assert prompts == ["sys:vm_no_greeting", "sys:default_greeting"]
    call = live_calls.feed(session, file_blobs, me, call, PhoneEvent("hangup"))
    assert call.status == "ended"


def test_a_stored_greeting_plays_from_the_store_in_333(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    user = make_user(session, tenant)
    me = actor_of(user)
    version = greetings.upload_greeting(session, file_blobs, me, user, speech_wav())
    call = live_calls.dial_service(session, file_blobs, me, user)

    call = live_calls.feed(session, file_blobs, me, call, PhoneEvent("dtmf", "4"))

    assert call.steps[0] == {"do": "play", "prompt": str(version.slot_id)}


def test_an_abandoned_call_ends_and_its_recording_is_dropped(
    session: Session, file_blobs: FileBlobStore, admin: User, slot: MessageSlot
) -> None:
    me = actor_of(admin)
    call = live_calls.start_callback(session, file_blobs, me, admin, slot, "+46735550101")
    call = live_calls.feed(session, file_blobs, me, call, PhoneEvent("answer"))
    call = live_calls.feed(session, file_blobs, me, call, PhoneEvent("dtmf", "#"), speech_wav())
    assert session.scalars(select(LiveCallTake)).all() != []

    ended = live_calls.expire_stale(session, now=call.updated_at + timedelta(hours=2))

    assert (ended, call.status, call.outcome) == (1, "ended", "expired")
    assert session.scalars(select(LiveCallTake)).all() == []
    assert slot.current_version_id is None


def test_a_call_a_real_phone_carries_takes_no_events_from_the_browser(
    session: Session, file_blobs: FileBlobStore, admin: User, slot: MessageSlot
) -> None:
    """Handed over to a SIP call worker (its row `dialling`, then `phone`), the call's events
    come from the phone: a browser posting one must not change the engine's state."""
    me = actor_of(admin)
    call = live_calls.start_callback(session, file_blobs, me, admin, slot, "+46735550101")
    state = dict(call.state)
    for status in ("dialling", "phone"):
        call.status = status
        with pytest.raises(Conflict):
            live_calls.feed(session, file_blobs, me, call, PhoneEvent("answer"))
        assert call.state == state and call.status == status


def test_two_windows_answering_at_once_one_gets_the_call(
    session_factory: sessionmaker[Session], file_blobs: FileBlobStore
) -> None:
    """Two windows (perhaps in two web processes) answer the same ringing call at once: the
    first holds the call's row until its unit of work ends; the second then finds the call
    answered and gets a Conflict, not a second connection recording the same message."""
    with session_factory() as s, s.begin():
        tenant = make_tenant(s)
        owner = make_user(s, tenant, role="company_admin", mobile="+46735550102")
        me = actor_of(owner)
        slot = library.create_message(s, me, tenant, kind="welcome", name="Hej", script_text="Hej!")
        token = live_calls.start_callback(s, file_blobs, me, owner, slot, "+46735550102").id
    outcome: list[str] = []

    def second_window() -> None:
        with session_factory() as s, s.begin():
            begin_for_writing(s)
            try:
                live_calls.answer(s, file_blobs, me, token)
                outcome.append("answered")
            except Conflict:
                outcome.append("conflict")

    with session_factory() as first, first.begin():
        begin_for_writing(first)
        assert live_calls.answer(first, file_blobs, me, token).status == "active"
        other = threading.Thread(target=second_window)
        other.start()
        other.join(0.5)
        assert other.is_alive() and outcome == []  # it waits for the first to finish
    other.join(10)
    assert outcome == ["conflict"]
