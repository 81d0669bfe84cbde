"""Message slots (the message library) and their media versions.

A slot keeps its placements whatever happens to its audio. Saving audio adds a version and
moves the slot's pointer; older versions stay and can be restored.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx import identifiers
from pbx.errors import ValidationError
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.blobs import BlobCorrupt, BlobError, BlobStore
from storage.models import (
    IvrMenu,
    IvrOption,
    MediaVersion,
    MessageSlot,
    PhoneNumber,
    Queue,
    Tenant,
    VoicemailBox,
)

SLOT_KINDS = ("welcome", "ivr", "queue", "hold", "greeting", "other")
LANGUAGES = ("sv", "en")
SOURCES = ("upload", "tts", "phone", "restore", "demo")


SCRIPT_MAX = 2000


def check_script_text(script_text: str) -> None:
    """The text to read (or synthesise) of a message: the one rule for create and edit."""
    if len(script_text) > SCRIPT_MAX:
        raise ValidationError(
            "script_text",
            f"script text must be at most {SCRIPT_MAX} characters",
            code="script_too_long",
        )


def create_slot(
    session: Session,
    actor: Actor,
    tenant: Tenant,
    *,
    kind: str,
    name: str,
    script_text: str = "",
    language: str = "sv",
) -> MessageSlot:
    if kind not in SLOT_KINDS:
        raise ValidationError("kind", f"kind must be one of {', '.join(SLOT_KINDS)}")
    if language not in LANGUAGES:
        raise ValidationError("language", "language must be sv or en")
    check_script_text(script_text)
    slot = MessageSlot(
        tenant_id=tenant.id,
        kind=kind,
        name=identifiers.name(name, max_length=120),
        script_text=script_text.strip(),
        language=language,
    )
    session.add(slot)
    session.flush()
    audit.record(
        session,
        actor,
        "slot.create",
        tenant_id=tenant.id,
        target=("slot", slot.id),
        new={"kind": kind, "name": slot.name, "language": language},
    )
    return slot


def require_slot(session: Session, tenant: Tenant, slot_id: int, field: str) -> MessageSlot:
    slot = session.get(MessageSlot, slot_id)
    if slot is None or slot.tenant_id != tenant.id or slot.deleted_at is not None:
        raise ValidationError(field, "no such message in this company", code="unknown_message")
    return slot


def add_version(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    slot: MessageSlot,
    master_wav: bytes,
    *,
    source: str,
    duration_ms: int,
    original: bytes | None = None,
    engine: str | None = None,
) -> MediaVersion:
    """Store audio (already normalised to the master format) as the slot's new version."""
    if source not in SOURCES:
        raise ValidationError("source", f"unknown media source {source!r}")
    if not master_wav:
        raise ValidationError("audio", "no audio given")
    version = MediaVersion(
        slot_id=slot.id,
        blob_sha256=blobs.put(master_wav),
        original_sha256=blobs.put(original) if original else None,
        source=source,
        engine=engine,
        duration_ms=duration_ms,
        created_by_user_id=actor.user_id,
    )
    session.add(version)
    session.flush()
    old = slot.current_version_id
    slot.current_version_id = version.id
    numbers = version_numbers(session, slot.id)
    audit.record(
        session,
        actor,
        "slot.audio",
        tenant_id=slot.tenant_id,
        target=("slot", slot.id),
        old={"version_id": old, "version": numbers.get(old) if old else None},
        new={"version_id": version.id, "version": numbers[version.id], "source": source},
    )
    return version


def version_numbers(session: Session, slot_id: int) -> dict[int, int]:
    """Each version's number within its message by id: 1 for the first recording, 2 for the
    next … (what people know a version by; the id is the database's)."""
    stmt = (
        select(MediaVersion.id)
        .where(MediaVersion.slot_id == slot_id)
        .order_by(MediaVersion.created_at, MediaVersion.id)
    )
    return {ident: number for number, ident in enumerate(session.scalars(stmt), start=1)}


@dataclass(frozen=True)
class Placement:
    # "number", "number_closed", "ivr_prompt", "ivr_invalid", "ivr_closed", "queue",
    # "queue_hold", "mailbox"
    kind: str
    object_id: int
    label: str


def placements(session: Session, slot: MessageSlot) -> list[Placement]:
    """Where a slot is used: numbers, IVR menus, queues and mailboxes that point at it."""
    found = [
        Placement("number", n.id, n.e164)
        for n in session.scalars(select(PhoneNumber).where(PhoneNumber.welcome_slot_id == slot.id))
    ]
    for menu in session.scalars(
        select(IvrMenu).where(
            (IvrMenu.prompt_slot_id == slot.id) | (IvrMenu.invalid_slot_id == slot.id)
        )
    ):
        kind = "ivr_prompt" if menu.prompt_slot_id == slot.id else "ivr_invalid"
        found.append(Placement(kind, menu.id, menu.name))
    found += [
        Placement("queue", q.id, q.name)
        for q in session.scalars(select(Queue).where(Queue.message_slot_id == slot.id))
    ]
    found += _hours_placements(session, slot)
    found += [
        Placement("mailbox", b.id, str(b.user_id))
        for b in session.scalars(
            select(VoicemailBox).where(VoicemailBox.greeting_slot_id == slot.id)
        )
    ]
    return found


def _hours_placements(session: Session, slot: MessageSlot) -> list[Placement]:
    """Messages on hold of queues, closed messages ("Stängt") of numbers and IVR keys."""
    found = [
        Placement("queue_hold", q.id, q.name)
        for q in session.scalars(select(Queue).where(Queue.hold_slot_id == slot.id))
    ]
    found += [
        Placement("number_closed", n.id, n.e164)
        for n in session.scalars(select(PhoneNumber).where(PhoneNumber.closed_slot_id == slot.id))
    ]
    options = select(IvrOption, IvrMenu).join(IvrMenu, IvrMenu.id == IvrOption.menu_id)
    for option, menu in session.execute(options.where(IvrOption.closed_slot_id == slot.id)):
        found.append(Placement("ivr_closed", menu.id, f"{menu.name} {option.digit}"))
    return found


def current_version(session: Session, slot: MessageSlot) -> MediaVersion | None:
    if slot.current_version_id is None:
        return None
    return session.get(MediaVersion, slot.current_version_id)


def audio_status(session: Session, blobs: BlobStore, slot: MessageSlot) -> str:
    """'ok', 'missing' (no version or blob gone) or 'corrupt' (blob fails its hash)."""
    version = current_version(session, slot)
    if version is None:
        return "missing"
    try:
        blobs.verify(version.blob_sha256)
    except BlobCorrupt:
        return "corrupt"
    except BlobError:
        return "missing"
    return "ok"


def list_slots(session: Session, tenant_id: int) -> list[MessageSlot]:
    stmt = (
        select(MessageSlot)
        .where(MessageSlot.tenant_id == tenant_id, MessageSlot.deleted_at.is_(None))
        .order_by(MessageSlot.kind, MessageSlot.name)
    )
    return list(session.scalars(stmt))


def prompt_slots(session: Session, tenant_id: int) -> list[MessageSlot]:
    """The messages a company may play to callers (IVR, queue, welcome): everything but
    the personal voicemail greetings, which belong to their user's mailbox."""
    return [slot for slot in list_slots(session, tenant_id) if slot.kind != "greeting"]
