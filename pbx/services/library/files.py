"""Media as files to send: tenant-scoped, verified against their hash, typed and named.

Every lookup goes through `scope.get_scoped`, so another company's id is NotFound exactly
like an id that does not exist. The bytes come from `BlobStore.get`, which re-hashes them:
audio that is missing or changed is never sent (`MediaGone`). File names are generated from
ids, never taken from an upload.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from pbx.errors import NotFound
from pbx.media.wav import MASTER_CONTENT_TYPE
from pbx.services.common.actor import Actor
from pbx.services.common.scope import get_scoped
from pbx.services.library import slots as slot_service
from pbx.services.people import profile_pictures
from storage.blobs import BlobError, BlobStore
from storage.models import MediaVersion, MessageSlot, ProfilePicture, User, VoicemailMessage

PICTURE_TYPES = {"image/webp": "webp", "image/png": "png", "image/jpeg": "jpg"}


class MediaGone(NotFound):
    """The object exists (and is visible) but its audio or picture is missing or corrupt."""

    code = "media_gone"


@dataclass(frozen=True)
class MediaFile:
    data: bytes
    content_type: str
    filename: str


def _read(blobs: BlobStore, sha256: str | None) -> bytes:
    if not sha256:
        raise MediaGone("this recording has no audio")
    try:
        return blobs.get(sha256)
    except BlobError as exc:
        raise MediaGone(str(exc)) from None


def version_audio(session: Session, blobs: BlobStore, actor: Actor, version_id: str) -> MediaFile:
    version = get_scoped(session, actor, MediaVersion, version_id)
    data = _read(blobs, version.blob_sha256)
    return MediaFile(data, MASTER_CONTENT_TYPE, f"message-{version.slot_id}-v{version.id}.wav")


def slot_audio(session: Session, blobs: BlobStore, actor: Actor, slot_id: str) -> MediaFile:
    """The current version of a message ("Spela upp")."""
    slot = get_scoped(session, actor, MessageSlot, slot_id)
    version = slot_service.current_version(session, slot)
    if version is None or slot.deleted_at is not None:
        raise MediaGone("this message has no audio")
    return MediaFile(
        _read(blobs, version.blob_sha256),
        MASTER_CONTENT_TYPE,
        f"message-{slot.id}-v{version.id}.wav",
    )


def voicemail_audio(session: Session, blobs: BlobStore, actor: Actor, message_id: str) -> MediaFile:
    message = get_scoped(session, actor, VoicemailMessage, message_id)
    if message.deleted_at is not None:
        raise NotFound(f"VoicemailMessage {message_id} not found")
    data = _read(blobs, message.blob_sha256)
    return MediaFile(data, MASTER_CONTENT_TYPE, f"voicemail-{message.id}.wav")


def picture_file(session: Session, blobs: BlobStore, actor: Actor, picture_id: str) -> MediaFile:
    picture = get_scoped(session, actor, ProfilePicture, picture_id)
    return _picture(blobs, picture)


def _picture(blobs: BlobStore, picture: ProfilePicture) -> MediaFile:
    content_type = picture.content_type if picture.content_type in PICTURE_TYPES else ""
    if not content_type:
        raise MediaGone("unknown picture type")
    extension = PICTURE_TYPES[content_type]
    data = _read(blobs, picture.blob_sha256)
    return MediaFile(data, content_type, f"picture-{picture.user_id}-{picture.id}.{extension}")


def user_picture(session: Session, blobs: BlobStore, actor: Actor, user_id: str) -> MediaFile:
    """A user's current picture, or the placeholder (initials) when there is none or its
    file is lost."""
    user = get_scoped(session, actor, User, user_id)
    state = profile_pictures.picture_of(session, blobs, user)
    if state.picture is not None and state.status == "ok":
        return _picture(blobs, state.picture)
    placeholder = profile_pictures.placeholder_for(user)
    return MediaFile(placeholder.data, placeholder.content_type, f"picture-{user.id}-none.webp")
