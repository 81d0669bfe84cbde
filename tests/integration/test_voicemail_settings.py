"""Voicemail settings (issue 17 item 4) on SQLite and PostgreSQL: the owner sets and changes
the 333 PIN (the current one first), an admin resets it (never chooses it), greeting-only
takes effect on the next call, and a new message goes out by e-mail through the outbox with
the audio attached or a link to the site, as the owner chose."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import PermissionDenied, ValidationError
from pbx.incident import mailer
from pbx.security.hashing import TEST_ONLY_FAST_PROFILE as FAST
from pbx.services.calls import simulated as calls
from pbx.services.calls.simulated import CallRequest
from pbx.services.common.actor import Actor
from pbx.services.people import voicemail, voicemail_pin, voicemail_settings
from storage.blobs import FileBlobStore
from storage.models import AuditEvent, OutboxMessage, Tenant, User, VoicemailMessage
from tests.builders import make_tenant, make_user
from tests.integration.switchboard_world import CALLER, MAIN, demo_company, user_by_ext
from tests.library_media import speech_wav
from tests.smtp_sink import smtp_sink


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.email, user.role, user.tenant_id)


def outbox(session: Session, user: User, kind: str) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).where(OutboxMessage.user_id == user.id, OutboxMessage.kind == kind)
    return list(session.scalars(stmt))


def test_owner_sets_then_changes_the_pin_with_the_current_one(session: Session) -> None:
    tenant = make_tenant(session)
    anna = make_user(session, tenant)
    me = actor_of(anna)
    voicemail_settings.change_pin(session, me, anna, "4711", profile=FAST)
    box = voicemail.box_of(session, anna)
    assert voicemail_pin.check_pin(session, str(box.id), "4711")
    with pytest.raises(ValidationError) as wrong:
        voicemail_settings.change_pin(session, me, anna, "5822", "1111", profile=FAST)
    assert wrong.value.field == "current_pin"
    voicemail_settings.change_pin(session, me, anna, "5822", "4711", profile=FAST)
    assert voicemail_pin.check_pin(session, str(box.id), "5822")
    assert not voicemail_pin.check_pin(session, str(box.id), "4711")
    assert len(outbox(session, anna, "voicemail_pin_changed")) == 2
    assert voicemail_settings.settings_of(session, anna).has_pin


def test_admin_resets_but_never_chooses_the_pin(session: Session) -> None:
    tenant = make_tenant(session)
    admin = make_user(session, tenant, role="company_admin")
    anna = make_user(session, tenant)
    voicemail_settings.change_pin(session, actor_of(anna), anna, "4711", profile=FAST)
    with pytest.raises(PermissionDenied):
        voicemail_settings.change_pin(session, actor_of(admin), anna, "1357", profile=FAST)
    voicemail_settings.reset_pin(session, actor_of(admin), anna)
    box = voicemail.box_of(session, anna)
    assert box.pin_hash is None and not voicemail_pin.check_pin(session, str(box.id), "4711")
    assert len(outbox(session, anna, "voicemail_pin_reset")) == 1
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(anna.id)))
    assert "voicemail.pin_reset" in set(actions)
    # After a reset the owner chooses a new PIN without the old one.
    voicemail_settings.change_pin(session, actor_of(anna), anna, "2468", profile=FAST)


def test_other_companies_and_colleagues_cannot_touch_settings(session: Session) -> None:
    tenant, other = make_tenant(session), make_tenant(session)
    anna, bo = make_user(session, tenant), make_user(session, tenant)
    rival_admin = make_user(session, other, role="company_admin")
    for who in (actor_of(bo), actor_of(rival_admin)):
        with pytest.raises(PermissionDenied):
            voicemail_settings.reset_pin(session, who, anna)
        with pytest.raises(PermissionDenied):
            voicemail_settings.update(session, who, anna, greeting_only=True, email_notify="off")


def test_settings_are_validated_and_audited(session: Session) -> None:
    tenant = make_tenant(session)
    anna = make_user(session, tenant)
    with pytest.raises(ValidationError):
        voicemail_settings.update(session, actor_of(anna), anna, greeting_only=False,
                                  email_notify="fax")  # fmt: skip
    done = voicemail_settings.update(
        session, actor_of(anna), anna, greeting_only=True, email_notify="link"
    )
    assert done.greeting_only and done.email_notify == "link"
    stmt = select(AuditEvent).where(AuditEvent.action == "voicemail.settings")
    assert session.scalars(stmt).one().new == {"greeting_only": True, "email_notify": "link"}


@pytest.fixture
def company(session: Session, file_blobs: FileBlobStore) -> Tenant:
    return demo_company(session, file_blobs)


def overflow_to_annas_voicemail(session: Session, blobs: FileBlobStore, tenant: Tenant) -> object:
    """Main menu 1 → the sales queue, everyone busy → overflow to Anna's (101) voicemail."""
    busy = frozenset({"102", "103", "104"})
    request = CallRequest(CALLER, MAIN, dtmf="1", busy=busy, say=speech_wav(1.5))
    return calls.run_call(session, blobs, tenant.id, request)


def test_new_message_by_email_with_the_audio_attached(
    session: Session, file_blobs: FileBlobStore, company: Tenant
) -> None:
    anna = user_by_ext(session, company, "101")
    voicemail_settings.update(session, actor_of(anna), anna, greeting_only=False,
                              email_notify="attach")  # fmt: skip
    result = overflow_to_annas_voicemail(session, file_blobs, company)
    (message_id,) = result.voicemail_ids  # type: ignore[attr-defined]
    (mail,) = outbox(session, anna, "voicemail")
    message = session.get(VoicemailMessage, message_id)
    assert message is not None and mail.attachment_sha256 == message.blob_sha256
    assert CALLER in mail.subject and mail.link_path is None
    with smtp_sink() as (url, box):
        report = mailer.send_outbox(session, url, kinds=["voicemail"], blobs=file_blobs)
    assert report.sent == 1
    sent = box.messages[0].message()
    (part,) = list(sent.iter_attachments())
    assert part.get_content_type() == "audio/wav"
    assert part.get_content() == file_blobs.get(message.blob_sha256 or "")


def test_new_message_by_email_with_a_link_and_none_when_off(
    session: Session, file_blobs: FileBlobStore, company: Tenant
) -> None:
    anna = user_by_ext(session, company, "101")
    overflow_to_annas_voicemail(session, file_blobs, company)
    assert outbox(session, anna, "voicemail") == []  # off by default
    voicemail_settings.update(session, actor_of(anna), anna, greeting_only=False,
                              email_notify="link")  # fmt: skip
    overflow_to_annas_voicemail(session, file_blobs, company)
    (mail,) = outbox(session, anna, "voicemail")
    assert mail.attachment_sha256 is None and mail.link_path == "/my/voicemail/"
    with smtp_sink() as (url, box):
        mailer.send_outbox(session, url, kinds=["voicemail"], site_url="https://vaxel.example")
    text = box.messages[0].message().get_content()
    assert "https://vaxel.example/my/voicemail/" in text and "Lyssna" in text


def test_greeting_only_box_takes_no_message(
    session: Session, file_blobs: FileBlobStore, company: Tenant
) -> None:
    anna = user_by_ext(session, company, "101")
    voicemail_settings.update(session, actor_of(anna), anna, greeting_only=True,
                              email_notify="attach")  # fmt: skip
    result = overflow_to_annas_voicemail(session, file_blobs, company)
    assert result.voicemail_ids == []  # type: ignore[attr-defined]
    assert result.trace.steps[-1].reason == "greeting_only"  # type: ignore[attr-defined]
    assert outbox(session, anna, "voicemail") == []
