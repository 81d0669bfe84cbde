"""The voicemail service number 333 end to end against stored media, on both databases:
5 records a personal greeting (kept on hang-up) as a new version, 4 plays it, 6 deletes it
(back to the default greeting), 1 plays new messages; the PIN from an unknown number, and from
the user's own mobile too unless the company trusts calling numbers (caller ID can be forged)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from pbx.security.hashing import TEST_ONLY_FAST_PROFILE
from pbx.services.calls import simulated as calls
from pbx.services.calls.simulated import CallRequest
from pbx.services.common.actor import SYSTEM
from pbx.services.library import slots as slot_service
from pbx.services.people import voicemail, voicemail_pin
from pbx.services.tenants import settings as tenant_settings
from storage.blobs import FileBlobStore
from storage.models import MessageSlot, Tenant, User, VoicemailMessage
from tests.integration.switchboard_world import CALLER, demo_company, user_by_ext
from tests.library_media import speech_wav

SERVICE = "333"


@pytest.fixture
def tenant(session: Session, file_blobs: FileBlobStore) -> Tenant:
    return demo_company(session, file_blobs)


PIN = "4711"


@pytest.fixture
def erik(session: Session, tenant: Tenant) -> User:
    user = user_by_ext(session, tenant, "102")  # no personal greeting in the demo
    voicemail_pin.set_pin(session, SYSTEM, user, PIN, TEST_ONLY_FAST_PROFILE)
    return user


def own(keys: str) -> str:
    """Keys from the user's own mobile: the PIN first (the calling number proves nothing)."""
    return f"{PIN}#{keys}"


def service(
    session: Session, blobs: FileBlobStore, tenant: Tenant, caller: str, keys: str, **more: bytes
) -> calls.CallResult:
    return calls.run_call(session, blobs, tenant.id, CallRequest(caller, SERVICE, keys, **more))


def steps(result: calls.CallResult) -> list[tuple[str, str | None]]:
    return [(s.kind, s.slot_id or s.reason) for s in result.trace.steps]


def test_record_play_and_delete_a_greeting_from_the_users_mobile(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant, erik: User
) -> None:
    mobile = erik.mobile or ""
    recorded = service(session, file_blobs, tenant, mobile, own("5"), say=speech_wav(3.0))
    assert ("prompt", "sys:vm_menu") in steps(recorded)
    assert ("tone", "beep") in steps(recorded) and ("greeting_saved", None) in steps(recorded)
    box = voicemail.box_of(session, erik)
    slot = session.get(MessageSlot, box.greeting_slot_id)
    assert slot is not None and recorded.version_ids == [slot.current_version_id]
    version = slot_service.current_version(session, slot)
    assert version is not None and version.source == "phone" and version.duration_ms > 2500
    assert slot_service.audio_status(session, file_blobs, slot) == "ok"

    played = service(session, file_blobs, tenant, mobile, own("4"))
    greeting = [s for s in played.trace.steps if s.slot_id == str(slot.id)]
    assert [(s.kind, s.audio) for s in greeting] == [("prompt", "ok")]

    deleted = service(session, file_blobs, tenant, mobile, own("6"))
    assert ("greeting_deleted", str(slot.id)) in steps(deleted)
    assert voicemail.box_of(session, erik).greeting_slot_id is None
    after = service(session, file_blobs, tenant, mobile, own("4"))
    assert ("prompt", "sys:vm_no_greeting") in steps(after)
    assert ("prompt", "sys:default_greeting") in steps(after)


def test_callers_hear_the_new_greeting_in_voicemail(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant, erik: User
) -> None:
    service(session, file_blobs, tenant, erik.mobile or "", own("5"), say=speech_wav(2.0))
    slot_id = str(voicemail.box_of(session, erik).greeting_slot_id)
    result = calls.run_call(
        session, file_blobs, tenant.id,
        CallRequest(CALLER, "+46852001001", busy=frozenset({"102"})),
    )  # fmt: skip
    # Erik has no busy rule: the busy call falls back to his own voicemail.
    assert [(s.kind, s.audio) for s in result.trace.steps if s.slot_id == slot_id] == [
        ("prompt", "ok")
    ]


def test_new_messages_are_played_and_marked_heard(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant, erik: User
) -> None:
    left = calls.run_call(
        session, file_blobs, tenant.id,
        CallRequest(CALLER, "+46852001001", busy=frozenset({"102"}), say=speech_wav(2.0)),
    )  # fmt: skip
    [message_id] = left.voicemail_ids
    heard = service(session, file_blobs, tenant, erik.mobile or "", own("1"))
    played = [s for s in heard.trace.steps if s.slot_id == f"vm:{message_id}"]
    assert [(s.kind, s.audio) for s in played] == [("prompt", "ok")]
    message = session.get(VoicemailMessage, message_id)
    assert message is not None and message.heard
    again = service(session, file_blobs, tenant, erik.mobile or "", own("1"))
    assert ("prompt", "sys:vm_no_messages") in steps(again)


def test_from_an_unknown_number_the_pin_opens_the_mailbox(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant, erik: User
) -> None:
    wrong = service(session, file_blobs, tenant, CALLER, "102#1234#")
    assert ("prompt", "sys:vm_invalid") in steps(wrong)
    assert "4711" not in repr(wrong.as_dict()) and "1234" not in repr(wrong.as_dict())
    right = service(session, file_blobs, tenant, CALLER, "102#4711#5", say=speech_wav(2.0))
    assert ("prompt", "sys:vm_menu") in steps(right)
    assert right.version_ids and voicemail.box_of(session, erik).greeting_slot_id is not None


def test_without_a_pin_an_unknown_number_never_gets_in(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    result = service(session, file_blobs, tenant, CALLER, "102#0000#102#1111#102#2222#")
    assert result.trace.disposition == "pin_failed"
    assert ("prompt", "sys:vm_menu") not in steps(result)


def test_the_users_own_mobile_is_asked_for_the_pin_unless_the_company_trusts_it(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant, erik: User
) -> None:
    """`pbx call --from <mobile> --to 333 --dtmf 1` no longer opens the mailbox by itself."""
    forged = service(session, file_blobs, tenant, erik.mobile or "", "1")
    assert ("prompt", "sys:vm_enter_pin") in steps(forged)
    assert ("prompt", "sys:vm_menu") not in steps(forged)
    tenant_settings.set_trust_calling_number(session, SYSTEM, tenant, True)
    trusted = service(session, file_blobs, tenant, erik.mobile or "", "1")
    assert ("prompt", "sys:vm_menu") in steps(trusted)
