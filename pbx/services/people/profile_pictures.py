"""Profile pictures ("profilbilder"): upload, placeholder when missing, who must re-upload.

An upload is decoded by content and re-encoded by Pillow (`pbx.media.pictures`), cropped
square; the original is kept beside it. A picture whose file is gone or fails its hash counts
as missing: the site shows a placeholder and lists the user for re-upload.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from pbx.media.pictures import Picture, initials_of, normalise_picture, placeholder_picture
from pbx.services.common.actor import Actor
from pbx.services.people import pictures
from pbx.services.people.users import list_users
from storage.blobs import BlobStore
from storage.models import ProfilePicture, User


@dataclass(frozen=True)
class PictureLimits:
    max_bytes: int = 10_000_000
    max_pixels: int = 40_000_000


DEFAULT_PICTURE_LIMITS = PictureLimits()


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
    return pictures.set_picture(
        session, blobs, actor, user, picture.data, picture.content_type, original=data
    )


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
