"""The message library (Organisation / Röstmeddelanden / Röstmeddelanden).

Every message slot of a company with where it is used, its current version and whether its
audio is really there (a red cross when it is missing or fails its hash). Audio comes in
three ways — an upload, text-to-speech, or a recording by phone — and each adds a version;
an older version is brought back by moving the slot's pointer (nothing is overwritten).
A slot that is used somewhere cannot be deleted; other deletes are soft and can be undone
for 30 days (the operator's notice: "Ta inte bort något meddelande!").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pbx import identifiers
from pbx.errors import Conflict, NotFound, PermissionDenied, ValidationError
from pbx.media.audio import normalise_audio
from pbx.media.tts import Synthesis, TextToSpeech
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from pbx.services.library import slots as slot_service
from pbx.services.library.scan import slot_statuses
from pbx.services.library.slots import Placement
from storage.blobs import BlobStore
from storage.models import MediaVersion, MessageSlot, Tenant, VoicemailBox, utcnow

LIBRARY_KINDS = ("welcome", "ivr", "queue", "hold", "other")
UNDO_DAYS = 30


@dataclass(frozen=True)
class MediaLimits:
    """Upload and storage limits (SECURITY.md 20). The web request limit is above
    `max_upload_bytes`, so a too-big file still gets this clear message."""

    max_upload_bytes: int = 15_000_000
    max_seconds: float = 180.0
    tenant_max_versions: int = 5_000
    tenant_max_seconds: float = 20 * 3600.0


DEFAULT_LIMITS = MediaLimits()


class MessageInUse(Conflict):
    """A slot with placements cannot be deleted; `placements` says where it is used."""

    code = "message_in_use"

    def __init__(self, placements: list[Placement]) -> None:
        super().__init__("This message is in use and cannot be deleted.")
        self.placements = placements


class QuotaExceeded(Conflict):
    code = "media_quota"


@dataclass(frozen=True)
class LibraryRow:
    slot: MessageSlot
    placements: tuple[Placement, ...]
    version: MediaVersion | None
    status: str  # "ok", "missing" or "corrupt"

    @property
    def missing(self) -> bool:
        return self.status != "ok"


@dataclass(frozen=True)
class Library:
    rows: list[LibraryRow]
    total: int
    missing: int  # over the whole library, whatever the filter


def library(
    session: Session, blobs: BlobStore, tenant_id: int, *, missing_only: bool = False
) -> Library:
    """The company's library rows (greetings are personal and live on "Mina inställningar")."""
    statuses = slot_statuses(session, blobs, tenant_id)
    slots = [s for s in slot_service.list_slots(session, tenant_id) if s.kind in LIBRARY_KINDS]
    rows = [_row(session, slot, statuses[slot.id]) for slot in slots]
    missing = sum(row.missing for row in rows)
    shown = [row for row in rows if row.missing] if missing_only else rows
    return Library(shown, len(rows), missing)


def _row(session: Session, slot: MessageSlot, status: str) -> LibraryRow:
    placements = tuple(slot_service.placements(session, slot))
    return LibraryRow(slot, placements, slot_service.current_version(session, slot), status)


def message_row(session: Session, blobs: BlobStore, slot: MessageSlot) -> LibraryRow:
    return _row(session, slot, slot_service.audio_status(session, blobs, slot))


def check_may_edit(session: Session, actor: Actor, slot: MessageSlot) -> None:
    """Company admins (and operators) edit their library; a user only their own greeting."""
    if actor.can_manage_tenant(slot.tenant_id):
        return
    box = session.scalar(select(VoicemailBox).where(VoicemailBox.greeting_slot_id == slot.id))
    if box is None or actor.user_id is None or box.user_id != actor.user_id:
        raise PermissionDenied("you cannot change this message")


def create_message(
    session: Session,
    actor: Actor,
    tenant: Tenant,
    *,
    kind: str,
    name: str,
    language: str = "sv",
    script_text: str = "",
) -> MessageSlot:
    actor.require_admin(tenant.id)
    if kind not in LIBRARY_KINDS:
        raise ValidationError("kind", "choose welcome, IVR, queue or other")
    return slot_service.create_slot(
        session, actor, tenant, kind=kind, name=name, script_text=script_text, language=language
    )


def update_message(
    session: Session, actor: Actor, slot: MessageSlot, *, name: str, language: str, script_text: str
) -> MessageSlot:
    """Rename, change language or the script text to read; audited old → new."""
    check_may_edit(session, actor, slot)
    new = _checked_fields(name, language, script_text)
    old = {key: getattr(slot, key) for key in new}
    changed = sorted(key for key in new if new[key] != old[key])
    if not changed:
        return slot
    for key in changed:
        setattr(slot, key, new[key])
    session.flush()
    audit.record(
        session,
        actor,
        "slot.update",
        tenant_id=slot.tenant_id,
        target=("slot", slot.id),
        old={key: old[key] for key in changed},
        new={key: new[key] for key in changed},
    )
    return slot


def _checked_fields(name: str, language: str, script_text: str) -> dict[str, str]:
    if language not in slot_service.LANGUAGES:
        raise ValidationError("language", "language must be Swedish or English")
    slot_service.check_script_text(script_text)
    return {
        "name": identifiers.name(name, max_length=120),
        "language": language,
        "script_text": script_text.strip(),
    }


def check_quota(
    session: Session, tenant_id: int, adding_ms: int, limits: MediaLimits = DEFAULT_LIMITS
) -> None:
    """Refuse a new version past the company's quota (count and total duration)."""
    stmt = (
        select(func.count(MediaVersion.id), func.coalesce(func.sum(MediaVersion.duration_ms), 0))
        .join(MessageSlot, MessageSlot.id == MediaVersion.slot_id)
        .where(MessageSlot.tenant_id == tenant_id)
    )
    count, total_ms = session.execute(stmt).one()
    if count + 1 > limits.tenant_max_versions:
        raise QuotaExceeded("The company has reached its limit of stored message versions.")
    if (total_ms + adding_ms) / 1000 > limits.tenant_max_seconds:
        raise QuotaExceeded("The company has reached its limit of stored audio.")


def save_audio(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    slot: MessageSlot,
    data: bytes,
    *,
    source: str = "upload",
    limits: MediaLimits = DEFAULT_LIMITS,
) -> MediaVersion:
    """An uploaded file or a recording: decoded by content, normalised, stored as a new
    version with the original kept. Any AudioError leaves everything as it was."""
    check_may_edit(session, actor, slot)
    master = normalise_audio(
        data, max_bytes=limits.max_upload_bytes, max_seconds=limits.max_seconds
    )
    check_quota(session, slot.tenant_id, master.duration_ms, limits)
    return slot_service.add_version(
        session, blobs, actor, slot, master.wav,
        source=source, duration_ms=master.duration_ms, original=data,
    )  # fmt: skip


def save_master(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    slot: MessageSlot,
    master_wav: bytes,
    duration_ms: int,
    *,
    original: bytes | None,
    source: str,
    limits: MediaLimits = DEFAULT_LIMITS,
) -> MediaVersion:
    """Audio already in the master format (a phone recording normalised on arrival)."""
    check_may_edit(session, actor, slot)
    check_quota(session, slot.tenant_id, duration_ms, limits)
    return slot_service.add_version(
        session, blobs, actor, slot, master_wav,
        source=source, duration_ms=duration_ms, original=original,
    )  # fmt: skip


def save_synthesis(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    slot: MessageSlot,
    synthesis: Synthesis,
    text: str,
    limits: MediaLimits = DEFAULT_LIMITS,
) -> MediaVersion:
    """Text-to-speech as a new version (the engine recorded); the text becomes the script."""
    check_may_edit(session, actor, slot)
    check_quota(session, slot.tenant_id, synthesis.duration_ms, limits)
    update_message(
        session, actor, slot, name=slot.name, language=synthesis.language, script_text=text
    )
    return slot_service.add_version(
        session, blobs, actor, slot, synthesis.wav,
        source="tts", duration_ms=synthesis.duration_ms, engine=synthesis.engine,
    )  # fmt: skip


def save_tts(
    session: Session,
    blobs: BlobStore,
    tts: TextToSpeech,
    actor: Actor,
    slot: MessageSlot,
    text: str,
    language: str,
    limits: MediaLimits = DEFAULT_LIMITS,
) -> MediaVersion:
    check_may_edit(session, actor, slot)  # before the work of synthesising
    return save_synthesis(session, blobs, actor, slot, tts.synthesise(text, language), text, limits)


@dataclass(frozen=True)
class VersionRow:
    version: MediaVersion
    current: bool
    status: str
    number: int  # 1 for the message's first recording, 2 for the next … (not the database id)


def versions(session: Session, blobs: BlobStore, slot: MessageSlot) -> list[VersionRow]:
    """Every version of a slot, newest first, with whether its audio is still intact and
    its number within the message."""
    stmt = (
        select(MediaVersion)
        .where(MediaVersion.slot_id == slot.id)
        .order_by(MediaVersion.created_at.desc(), MediaVersion.id.desc())
    )
    found = list(session.scalars(stmt))
    return [
        VersionRow(v, v.id == slot.current_version_id, blobs.status(v.blob_sha256), len(found) - i)
        for i, v in enumerate(found)
    ]


def restore_version(
    session: Session, blobs: BlobStore, actor: Actor, slot: MessageSlot, version_id: int
) -> MediaVersion:
    """Roll back: point the slot at an older version again (audited; nothing rewritten)."""
    check_may_edit(session, actor, slot)
    version = session.get(MediaVersion, version_id)
    if version is None or version.slot_id != slot.id:
        raise NotFound(f"version {version_id} of this message not found")
    if blobs.status(version.blob_sha256) != "ok":
        raise Conflict("The audio of that version is missing; it cannot be restored.")
    old = slot.current_version_id
    if old == version.id:
        return version
    slot.current_version_id = version.id
    session.flush()
    numbers = slot_service.version_numbers(session, slot.id)  # what the library pages show
    audit.record(
        session,
        actor,
        "slot.rollback",
        tenant_id=slot.tenant_id,
        target=("slot", slot.id),
        old={"version_id": old, "version": numbers.get(old) if old else None},
        new={"version_id": version.id, "version": numbers[version.id]},
    )
    return version


def delete_message(
    session: Session, actor: Actor, slot: MessageSlot, now: datetime | None = None
) -> None:
    """Soft delete, refused while the slot is placed anywhere (undo within 30 days)."""
    actor.require_admin(slot.tenant_id)
    used = slot_service.placements(session, slot)
    if used:
        raise MessageInUse(used)
    slot.deleted_at = now or utcnow()
    session.flush()
    audit.record(
        session, actor, "slot.delete", tenant_id=slot.tenant_id, target=("slot", slot.id),
        old={"name": slot.name},
    )  # fmt: skip


def deleted_messages(
    session: Session, tenant_id: int, now: datetime | None = None
) -> list[MessageSlot]:
    """Deleted slots that can still be brought back, most recently deleted first."""
    since = (now or utcnow()) - timedelta(days=UNDO_DAYS)
    stmt = (
        select(MessageSlot)
        .where(MessageSlot.tenant_id == tenant_id, MessageSlot.deleted_at >= since)
        .where(MessageSlot.kind.in_(LIBRARY_KINDS))
        .order_by(MessageSlot.deleted_at.desc())
    )
    return list(session.scalars(stmt))


def undo_delete(
    session: Session, actor: Actor, slot: MessageSlot, now: datetime | None = None
) -> MessageSlot:
    actor.require_admin(slot.tenant_id)
    deleted_at = slot.deleted_at
    if deleted_at is None:
        return slot
    if deleted_at < (now or utcnow()) - timedelta(days=UNDO_DAYS):
        raise Conflict("This message was deleted more than 30 days ago.")
    slot.deleted_at = None
    session.flush()
    audit.record(
        session, actor, "slot.undelete", tenant_id=slot.tenant_id, target=("slot", slot.id),
        new={"name": slot.name},
    )  # fmt: skip
    return slot
