"""Profile pictures (profilbilder): every upload kept; the newest is the current one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.blobs import BlobStore
from storage.models import ProfilePicture, User


def set_picture(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    user: User,
    image: bytes,
    content_type: str,
    original: bytes | None = None,
) -> ProfilePicture:
    """Store an already re-encoded picture (see pbx.media.pictures) as the current one."""
    actor.require_self_or_admin(user.id, user.tenant_id)
    picture = ProfilePicture(
        user_id=user.id,
        blob_sha256=blobs.put(image),
        original_sha256=blobs.put(original) if original else None,
        content_type=content_type,
    )
    session.add(picture)
    session.flush()
    audit.record(
        session,
        actor,
        "picture.set",
        tenant_id=user.tenant_id,
        target=("user", user.id),
        new={"picture_id": picture.id},
    )
    return picture


def current_picture(session: Session, user_id: int) -> ProfilePicture | None:
    stmt = (
        select(ProfilePicture)
        .where(ProfilePicture.user_id == user_id)
        .order_by(ProfilePicture.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)
