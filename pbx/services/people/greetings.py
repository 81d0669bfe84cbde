"""A user's own voicemail: the personal greeting ("hälsningsfras") and received messages.

The greeting is a message slot of kind "greeting" placed on the user's voicemail box, so it
has versions like any message: recorded through 333 (key 5), uploaded or synthesised on
"Mina inställningar". Deleting it (333 key 6, or the button) takes it off the box — callers
hear the company's default greeting again — and keeps its versions. Received messages whose
audio was lost keep their caller and time, so the user can still call back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from pbx.media.tts import TextToSpeech
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from pbx.services.library import messages as library
from pbx.services.library import slots as slot_service
from pbx.services.people import voicemail
from storage.blobs import BlobStore
from storage.models import MediaVersion, MessageSlot, User, VoicemailMessage, utcnow


@dataclass(frozen=True)
class Greeting:
    slot: MessageSlot | None
    version: MediaVersion | None
    status: str  # "none" (the default greeting plays), "ok", "missing" or "corrupt"


def greeting_of(session: Session, blobs: BlobStore, user: User) -> Greeting:
    box = voicemail.box_of(session, user)
    slot = session.get(MessageSlot, box.greeting_slot_id) if box.greeting_slot_id else None
    if slot is None:
        return Greeting(None, None, "none")
    version = slot_service.current_version(session, slot)
    return Greeting(slot, version, slot_service.audio_status(session, blobs, slot))


def _own_slot(session: Session, actor: Actor, user: User) -> MessageSlot:
    """The user's greeting slot (created on first use); the user or their admins only."""
    actor.require_self_or_admin(user.id, user.tenant_id)
    return voicemail.greeting_slot(session, actor, user)


def upload_greeting(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    user: User,
    data: bytes,
    *,
    source: str = "upload",
    limits: library.MediaLimits = library.DEFAULT_LIMITS,
) -> MediaVersion:
    """An uploaded file or a recording (`source="phone"` for 333) as the new greeting."""
    slot = _own_slot(session, actor, user)
    return library.save_audio(session, blobs, actor, slot, data, source=source, limits=limits)


def tts_greeting(
    session: Session,
    blobs: BlobStore,
    tts: TextToSpeech,
    actor: Actor,
    user: User,
    text: str,
    language: str,
) -> MediaVersion:
    slot = _own_slot(session, actor, user)
    return library.save_tts(session, blobs, tts, actor, slot, text, language)


def remove_greeting(session: Session, actor: Actor, user: User) -> None:
    """Back to the default greeting: the slot leaves the box (its versions are kept)."""
    box = voicemail.box_of(session, user)
    if box.greeting_slot_id is None:
        return
    slot = _own_slot(session, actor, user)
    box.greeting_slot_id = None
    slot.deleted_at = utcnow()
    session.flush()
    audit.record(
        session, actor, "greeting.delete", tenant_id=user.tenant_id, target=("slot", slot.id),
        old={"user_id": user.id},
    )  # fmt: skip


@dataclass(frozen=True)
class ReceivedMessage:
    message: VoicemailMessage
    status: str  # "ok", or "missing"/"corrupt": caller and time still shown

    @property
    def playable(self) -> bool:
        return self.status == "ok"


def received_messages(session: Session, blobs: BlobStore, user: User) -> list[ReceivedMessage]:
    box = voicemail.box_of(session, user)
    return [
        ReceivedMessage(m, blobs.status(m.blob_sha256) if m.blob_sha256 else "missing")
        for m in voicemail.messages_of(session, box)
    ]
