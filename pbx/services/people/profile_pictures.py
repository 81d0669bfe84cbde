"""Profile pictures ("profilbilder"): upload, placeholder when missing, who must re-upload.

An upload is decoded by content and re-encoded by Pillow (`pbx.media.pictures`), cropped
square; only the re-encoded picture is stored (the upload as sent, with its EXIF: GPS
position, camera serial…, is never written to the blob store, so no backup holds it). A
picture whose file is gone or fails its hash counts as missing: the site shows a placeholder
and lists the user for re-upload.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from pbx.media.pictures import Picture, initials_of, normalise_picture, placeholder_picture
from pbx.services.common.actor import Actor
from pbx.services.common.scope import get_scoped
from pbx.services.library.files import MediaFile, MediaGone, read_blob
from pbx.services.people import pictures
from pbx.services.people.users import list_users
from storage.blobs import BlobStore
from storage.models import ProfilePicture, User


@dataclass(frozen=True)
class PictureLimits:
    max_bytes: int = 10_000_000
    max_pixels: int = 40_000_000


DEFAULT_PICTURE_LIMITS = PictureLimits()
PICTURE_TYPES = {"image/webp": "webp", "image/png": "png", "image/jpeg": "jpg"}


def upload_picture(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    user: User,
    data: bytes,
    limits: PictureLimits = DEFAULT_PICTURE_LIMITS,
) -> ProfilePicture:
    """Decode, crop, re-encode and store as the user's current picture (PictureError:
    nothing stored)."""
    picture = normalise_picture(data, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels)
    return pictures.set_picture(session, blobs, actor, user, picture.data, picture.content_type)


@dataclass(frozen=True)
class UserPicture:
    user: User
    picture: ProfilePicture | None
    status: str  # "ok", "none" (never uploaded), "missing" or "corrupt"

    @property
    def needs_upload(self) -> bool:
        return self.status != "ok"


def picture_of(session: Session, blobs: BlobStore, user: User) -> UserPicture:
    current = pictures.current_picture(session, user.id)
    if current is None:
        return UserPicture(user, None, "none")
    return UserPicture(user, current, blobs.status(current.blob_sha256))


def company_pictures(session: Session, blobs: BlobStore, tenant_id: int) -> list[UserPicture]:
    """Every active user of a company with their picture's state (admins' overview)."""
    people = [u for u in list_users(session, tenant_id) if u.status == "active"]
    return [picture_of(session, blobs, user) for user in people]


def missing_pictures(session: Session, blobs: BlobStore, tenant_id: int) -> list[UserPicture]:
    return [p for p in company_pictures(session, blobs, tenant_id) if p.needs_upload]


def placeholder_for(user: User) -> Picture:
    return placeholder_picture(initials_of(user.name))


def picture_file(session: Session, blobs: BlobStore, actor: Actor, picture_id: str) -> MediaFile:
    picture = get_scoped(session, actor, ProfilePicture, picture_id)
    return _picture(blobs, picture)


def _picture(blobs: BlobStore, picture: ProfilePicture) -> MediaFile:
    content_type = picture.content_type if picture.content_type in PICTURE_TYPES else ""
    if not content_type:
        raise MediaGone("unknown picture type")
    extension = PICTURE_TYPES[content_type]
    data = read_blob(blobs, picture.blob_sha256)
    return MediaFile(data, content_type, f"picture-{picture.user_id}-{picture.id}.{extension}")


def user_picture(session: Session, blobs: BlobStore, actor: Actor, user_id: str) -> MediaFile:
    """A user's current picture, or the placeholder (initials) when there is none or its
    file is lost."""
    user = get_scoped(session, actor, User, user_id)
    state = picture_of(session, blobs, user)
    if state.picture is not None and state.status == "ok":
        return _picture(blobs, state.picture)
    placeholder = placeholder_for(user)
    return MediaFile(placeholder.data, placeholder.content_type, f"picture-{user.id}-none.webp")
