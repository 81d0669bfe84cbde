"""Bulk text-to-speech for missing messages: the quickest way back after media loss.

For one company (or all), every message whose audio is missing or corrupt and that has
script text is synthesised again and stored as a new version (source "tts", the engine
recorded); messages without script text cannot be regenerated and are listed as needing a
recording. Missing means what the media scan says (`media_scan.slot_statuses`), so the
library's red crosses and this list always agree.

`limit` lets the web page work in short batches (each its own transaction) and show
progress; the command line does everything in one go with a progress bar. Synthesis runs a
few messages ahead in threads; storing stays in the caller's session and thread.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import PbxError, PermissionDenied
from pbx.media.tts import Synthesis, TextToSpeech
from pbx.services.common.actor import Actor
from pbx.services.common.progress import Progress, no_progress
from pbx.services.library import messages as library
from pbx.services.library import slots as slot_service
from pbx.services.library.scan import slot_statuses
from storage.blobs import BlobStore
from storage.models import MessageSlot, Tenant, User, VoicemailBox

# Synthesis threads: espeak-ng itself is serialised by its lock; the ffmpeg half runs beside.
WORKERS = max(2, min(4, os.cpu_count() or 1))
AHEAD = 2  # jobs queued per worker (bounds the audio held in memory)


@dataclass(frozen=True)
class SlotRef:
    slot_id: int
    tenant_slug: str
    kind: str
    name: str
    engine: str | None = None
    error: str | None = None


@dataclass
class Regeneration:
    regenerated: list[SlotRef] = field(default_factory=list)
    needs_recording: list[SlotRef] = field(default_factory=list)
    failed: list[SlotRef] = field(default_factory=list)
    remaining: int = 0  # missing slots with script text left for a later batch

    def as_dict(self) -> dict[str, object]:
        return {
            "regenerated": [vars(r) for r in self.regenerated],
            "needs_recording": [vars(r) for r in self.needs_recording],
            "failed": [vars(r) for r in self.failed],
            "remaining": self.remaining,
        }


@dataclass(frozen=True)
class MissingMessages:
    with_script: list[MessageSlot]
    without_script: list[MessageSlot]


def missing_messages(session: Session, blobs: BlobStore, tenant_id: int) -> MissingMessages:
    """A company's live slots whose current audio is missing or corrupt, split by whether
    they have script text to synthesise."""
    statuses = slot_statuses(session, blobs, tenant_id)
    missing = [
        slot
        for slot in slot_service.list_slots(session, tenant_id)
        if statuses.get(slot.id, "ok") != "ok"
    ]
    return MissingMessages(
        [s for s in missing if s.script_text.strip()],
        [s for s in missing if not s.script_text.strip()],
    )


@dataclass(frozen=True)
class MissingGreeting:
    """A personal voicemail greeting without its audio, and whose it is."""

    slot_id: int
    user_id: int
    user_name: str
    has_script: bool


def missing_greetings(session: Session, blobs: BlobStore, tenant_id: int) -> list[MissingGreeting]:
    """The company's personal greetings whose audio is missing or corrupt. They are not in
    the library's rows (each belongs to its user's mailbox), but a loss must show there."""
    stmt = (
        select(MessageSlot, User)
        .join(VoicemailBox, VoicemailBox.greeting_slot_id == MessageSlot.id)
        .join(User, User.id == VoicemailBox.user_id)
        .where(MessageSlot.tenant_id == tenant_id, MessageSlot.deleted_at.is_(None))
        .order_by(User.name)
    )
    return [
        MissingGreeting(slot.id, user.id, user.name, bool(slot.script_text.strip()))
        for slot, user in session.execute(stmt)
        if slot_service.audio_status(session, blobs, slot) != "ok"
    ]


@dataclass(frozen=True)
class Outcome:
    """What "make every missing message" ended with: the messages made (ids from its
    batches), and what still has no audio and needs a recording."""

    made: list[MessageSlot]
    needs_recording: list[MessageSlot]
    greetings: list[MissingGreeting]


def outcome(session: Session, blobs: BlobStore, tenant_id: int, made_ids: set[int]) -> Outcome:
    slots = {s.id: s for s in slot_service.list_slots(session, tenant_id)}
    still = missing_messages(session, blobs, tenant_id)
    return Outcome(
        [slots[i] for i in sorted(made_ids) if i in slots and slots[i].kind != "greeting"],
        [s for s in still.with_script + still.without_script if s.kind != "greeting"],
        missing_greetings(session, blobs, tenant_id),
    )


def regenerate_missing(
    session: Session,
    blobs: BlobStore,
    tts: TextToSpeech,
    actor: Actor,
    *,
    tenant_id: int | None = None,
    limit: int | None = None,
    progress: Progress = no_progress,
) -> Regeneration:
    """Synthesise every missing message with script text, of one company or all."""
    tenants = _tenants(session, actor, tenant_id)
    work = [(t, missing_messages(session, blobs, t.id)) for t in tenants]
    result = Regeneration()
    todo = [(t, s) for t, found in work for s in found.with_script]
    result.needs_recording = [_ref(t, s) for t, found in work for s in found.without_script]
    batch = todo if limit is None else todo[:limit]
    result.remaining = len(todo) - len(batch)
    jobs = [(slot.script_text, slot.language) for _, slot in batch]
    with progress("regenerating missing messages", len(batch)) as advance:
        for (tenant, slot), spoken in zip(batch, synthesised(tts, jobs), strict=True):
            _store(session, blobs, actor, tenant, slot, spoken, result)
            advance(1)
    return result


def synthesised(
    tts: TextToSpeech, jobs: list[tuple[str, str]], workers: int = WORKERS
) -> Iterator[Synthesis | PbxError]:
    """Each (text, language) spoken, in order; a failure is yielded in its place.

    Synthesis and normalisation (an ffmpeg process per message) run in a few threads, a
    bounded number ahead of the caller, who stores them one by one in its own session.
    """
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tts") as pool:
        pending: deque[Future[Synthesis]] = deque()
        queued = iter(jobs)
        for text, language in islice(queued, AHEAD * workers):
            pending.append(pool.submit(tts.synthesise, text, language))
        while pending:
            future = pending.popleft()
            following = next(queued, None)
            if following is not None:
                pending.append(pool.submit(tts.synthesise, *following))
            try:
                yield future.result()
            except PbxError as exc:
                yield exc


def _store(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    tenant: Tenant,
    slot: MessageSlot,
    spoken: Synthesis | PbxError,
    result: Regeneration,
) -> None:
    try:
        if isinstance(spoken, PbxError):
            raise spoken
        with session.begin_nested():  # one failure never undoes the others
            library.save_synthesis(session, blobs, actor, slot, spoken, slot.script_text)
    except PbxError as exc:
        result.failed.append(_ref(tenant, slot, error=exc.message))
        return
    result.regenerated.append(_ref(tenant, slot, engine=spoken.engine))


def _ref(
    tenant: Tenant, slot: MessageSlot, *, engine: str | None = None, error: str | None = None
) -> SlotRef:
    return SlotRef(slot.id, tenant.slug, slot.kind, slot.name, engine, error)


def _tenants(session: Session, actor: Actor, tenant_id: int | None) -> list[Tenant]:
    if tenant_id is None:
        if not actor.is_operator:
            raise PermissionDenied("only the operator regenerates every company's messages")
        return list(session.scalars(select(Tenant).order_by(Tenant.id)))
    actor.require_admin(tenant_id)
    tenant = session.get(Tenant, tenant_id)
    return [tenant] if tenant is not None else []
