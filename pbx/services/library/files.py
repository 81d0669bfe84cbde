"""Media as files to send: tenant-scoped, verified against their hash, typed and named.

Every lookup goes through `scope.get_scoped`, so another company's id is NotFound exactly
like an id that does not exist. The bytes come from `BlobStore.get`, which re-hashes them:
audio that is missing or changed is never sent (`MediaGone`). File names are generated from
ids, never taken from an upload. Pictures are served by `pbx.services.people.profile_pictures`
with the same `MediaFile` / `MediaGone`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from pbx.errors import NotFound
from pbx.media.wav import MASTER_CONTENT_TYPE
from pbx.services.common.actor import Actor
from pbx.services.common.scope import get_scoped
from pbx.services.library import slots as slot_service
from storage.blobs import BlobError, BlobStore
from storage.models import MediaVersion, MessageSlot, VoicemailMessage


class MediaGone(NotFound):
    """The object exists (and is visible) but its audio or picture is missing or corrupt."""

    code = "media_gone"


@dataclass(frozen=True)
class MediaFile:
    data: bytes
    content_type: str
    filename: str


def read_blob(blobs: BlobStore, sha256: str | None) -> bytes:
    if not sha256:
        raise MediaGone("this recording has no audio")
    try:
        return blobs.get(sha256)
    except BlobError as exc:
        raise MediaGone(str(exc)) from None


def version_audio(session: Session, blobs: BlobStore, actor: Actor, version_id: str) -> MediaFile:
    version = get_scoped(session, actor, MediaVersion, version_id)
    data = read_blob(blobs, version.blob_sha256)
    return MediaFile(data, MASTER_CONTENT_TYPE, f"message-{version.slot_id}-v{version.id}.wav")


def slot_audio(session: Session, blobs: BlobStore, actor: Actor, slot_id: str) -> MediaFile:
    """The current version of a message ("Spela upp")."""
    slot = get_scoped(session, actor, MessageSlot, slot_id)
    version = slot_service.current_version(session, slot)
    if version is None or slot.deleted_at is not None:
        raise MediaGone("this message has no audio")
    return MediaFile(
        read_blob(blobs, version.blob_sha256),
        MASTER_CONTENT_TYPE,
        f"message-{slot.id}-v{version.id}.wav",
    )


def voicemail_audio(session: Session, blobs: BlobStore, actor: Actor, message_id: str) -> MediaFile:
    message = get_scoped(session, actor, VoicemailMessage, message_id)
    if message.deleted_at is not None:
        raise NotFound(f"VoicemailMessage {message_id} not found")
    data = read_blob(blobs, message.blob_sha256)
    return MediaFile(data, MASTER_CONTENT_TYPE, f"voicemail-{message.id}.wav")
