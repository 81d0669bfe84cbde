"""Recorded media: message slots and their versions, voicemail, profile pictures, blobs.

A slot keeps its placement (which number, IVR or queue uses it) whatever happens to its
audio; a new recording adds a version and moves the slot's pointer, so nothing is lost.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime, utcnow

SLOT_KINDS = ("welcome", "ivr", "queue", "hold", "greeting", "other")
VERSION_SOURCES = ("upload", "tts", "phone", "restore", "demo")


class MessageSlot(Base):
    __tablename__ = "message_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(120))
    script_text: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(5), default="sv")
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("media_versions.id", use_alter=True)
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class MediaVersion(Base):
    __tablename__ = "media_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("message_slots.id"), index=True)
    blob_sha256: Mapped[str] = mapped_column(String(64), index=True)
    original_sha256: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(10))
    engine: Mapped[str | None] = mapped_column(String(40))
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class VoicemailBox(Base):
    __tablename__ = "voicemail_boxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    # The personal greeting (a slot of kind "greeting"); None plays the default greeting.
    greeting_slot_id: Mapped[int | None] = mapped_column(ForeignKey("message_slots.id"), index=True)
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    # Greeting-only: callers hear the greeting and cannot leave a message.
    greeting_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A new message by e-mail: "off", "attach" (the audio attached) or "link" (to the site).
    email_notify: Mapped[str] = mapped_column(String(8), default="off", server_default="off")


class VoicemailMessage(Base):
    __tablename__ = "voicemail_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    box_id: Mapped[int] = mapped_column(ForeignKey("voicemail_boxes.id"), index=True)
    caller: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    blob_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    heard: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ProfilePicture(Base):
    """Every upload is kept; the newest row of a user is the current picture."""

    __tablename__ = "profile_pictures"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    blob_sha256: Mapped[str] = mapped_column(String(64), index=True)
    original_sha256: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class StoredBlob(Base):
    """Blob bodies when media lives in the database (one transactional store)."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
