"""Voicemail boxes: the personal greeting (a slot of kind "greeting") and received messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import NotFound
from pbx.services.common.actor import Actor
from pbx.services.library import slots as slot_service
from pbx.services.people import voicemail_mail
from storage.blobs import BlobStore
from storage.models import MessageSlot, Tenant, User, VoicemailBox, VoicemailMessage


def box_of(session: Session, user: User) -> VoicemailBox:
    box = session.scalar(select(VoicemailBox).where(VoicemailBox.user_id == user.id))
    if box is None:
        raise NotFound(f"{user.name} has no voicemail box")
    return box


def greeting_slot(session: Session, actor: Actor, user: User) -> MessageSlot:
    """The user's personal-greeting slot, created on first use so it keeps its placement."""
    box = box_of(session, user)
    if box.greeting_slot_id is not None:
        slot = session.get(MessageSlot, box.greeting_slot_id)
        assert slot is not None
        return slot
    tenant = session.get(Tenant, user.tenant_id)
    assert tenant is not None
    slot = slot_service.create_slot(
        session, actor, tenant, kind="greeting", name=f"Hälsningsfras {user.name}"
    )
    box.greeting_slot_id = slot.id
    session.flush()
    return slot


def deposit(
    session: Session,
    blobs: BlobStore,
    box: VoicemailBox,
    *,
    caller: str,
    received_at: datetime,
    master_wav: bytes | None,
    duration_ms: int,
) -> VoicemailMessage:
    message = VoicemailMessage(
        box_id=box.id,
        caller=caller,
        received_at=received_at,
        duration_ms=duration_ms,
        blob_sha256=blobs.put(master_wav) if master_wav else None,
    )
    session.add(message)
    session.flush()
    voicemail_mail.queue_notice(session, box, message)  # e-mail, if the owner asked for it
    return message


def messages_of(session: Session, box: VoicemailBox) -> list[VoicemailMessage]:
    stmt = (
        select(VoicemailMessage)
        .where(VoicemailMessage.box_id == box.id, VoicemailMessage.deleted_at.is_(None))
        .order_by(VoicemailMessage.received_at.desc())
    )
    return list(session.scalars(stmt))
