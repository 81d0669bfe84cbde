"""What the SIP front asks of the rest of Växel, each piece of work in its own unit of work on
a worker thread, so the event loop (and with it the media tick) never waits for the
database, the blob store or text-to-speech.

The front is wired to the switchboard here and only here: the command line (the
composition root) gives it a way to open a unit of work, the media store and a speaker for
system prompts. Routing comes from the same dialplan snapshot every other kind of call uses
(`calls.dialplan.build_snapshot`), kept for a few seconds per company so a burst of calls
does not rebuild it each time.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.engine import DialplanSnapshot
from pbx.errors import NotFound
from pbx.media.errors import MediaError
from pbx.security.secretbox import SecretBox
from pbx.services.calls.dialplan import build_snapshot
from pbx.services.calls.live_snapshot import VOICEMAIL_PREFIX
from pbx.services.library import slots as slot_service
from pbx.services.library import system_prompts
from storage.blobs import BlobError, BlobStore
from storage.db import begin_for_writing
from storage.models import (
    MessageSlot,
    PhoneNumber,
    User,
    VoicemailBox,
    VoicemailMessage,
    utcnow,
)

T = TypeVar("T")
UnitOfWork = Callable[[], AbstractContextManager[Session]]
Work = Callable[[Session, BlobStore], T]
SNAPSHOT_SECONDS = 5.0


@dataclass
class Switchboard:
    """The services, seen from the event loop: `await switchboard.run(work)` runs
    `work(session, blobs)` on a thread in a unit of work that commits when it returns."""

    unit_of_work: UnitOfWork
    blobs_of: Callable[[Session], BlobStore]
    speak: Callable[[str, str], bytes]  # (text, language) -> master WAV
    secret_box: SecretBox
    realm: str = "vaxel"
    language: str = "sv"
    threads: int = 4
    _pool: ThreadPoolExecutor | None = None
    _snapshots: dict[int, tuple[float, DialplanSnapshot]] = field(default_factory=dict)
    _spoken: dict[str, bytes] = field(default_factory=dict)
    _messages: dict[tuple[int, str], tuple[float, bytes | None]] = field(default_factory=dict)
    _speaking: threading.Lock = field(default_factory=threading.Lock)
    _owners: dict[str, tuple[float, int]] = field(default_factory=dict)

    async def run(self, work: Work[T], *, writes: bool = True) -> T:
        """`writes=False` for lookups that only read (they need not queue for SQLite's
        write lock)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="pbx-phone")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, partial(self.run_here, work, writes))

    def run_here(self, work: Work[T], writes: bool = True) -> T:
        """Run `work` in a unit of work on this thread (the front's threads call this).
        Work that may write takes SQLite's write lock at BEGIN, so concurrent calls queue
        within the busy timeout instead of failing with "database is locked"."""
        with self.unit_of_work() as session:
            if writes:
                begin_for_writing(session)
            return work(session, self.blobs_of(session))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)  # queued work (a voicemail being stored) finishes
            self._pool = None

    # --- routing ---------------------------------------------------------------------

    def snapshot(self, session: Session, blobs: BlobStore, tenant_id: int) -> DialplanSnapshot:
        """The company's dialplan as it is now (at most a few seconds old)."""
        now = time.monotonic()
        cached = self._snapshots.get(tenant_id)
        if cached is not None and now - cached[0] < SNAPSHOT_SECONDS:
            return cached[1]
        snap = build_snapshot(session, blobs, tenant_id, utcnow())
        self._snapshots[tenant_id] = (now, snap)
        return snap

    def cached_snapshot(self, tenant_id: int) -> DialplanSnapshot | None:
        """The company's dialplan if a fresh one is cached (no database: the event loop
        may ask)."""
        cached = self._snapshots.get(tenant_id)
        if cached is not None and time.monotonic() - cached[0] < SNAPSHOT_SECONDS:
            return cached[1]
        return None

    def forget(self, tenant_id: int) -> None:
        """Drop what is cached of a company (after a call changed it: a greeting, 333)."""
        self._snapshots.pop(tenant_id, None)
        for key in [key for key in self._messages if key[0] == tenant_id]:
            self._messages.pop(key, None)

    # --- what callers hear -----------------------------------------------------------

    def prompt_audio(
        self, session: Session, blobs: BlobStore, tenant_id: int, slot_id: str
    ) -> bytes | None:
        """The master WAV of a slot the engine asked to play: a system prompt (spoken once
        per text), a voicemail message, or a company's message (its current version). None
        when the audio cannot be had: the caller hears the engine's fallback instead."""
        if slot_id.startswith(system_prompts.PREFIX):
            return self._system_prompt(slot_id)
        try:
            if slot_id.startswith(VOICEMAIL_PREFIX):
                return _voicemail(session, blobs, tenant_id, slot_id[len(VOICEMAIL_PREFIX) :])
            return self._message(session, blobs, tenant_id, slot_id)
        except (BlobError, NotFound, ValueError):
            return None

    def cached_prompt(self, tenant_id: int, slot_id: str) -> tuple[bool, bytes | None]:
        """`prompt_audio` without the database or text-to-speech, for the event loop:
        (True, audio) when it is known (audio None: the fallback plays), else (False, None)
        and the caller asks `prompt_audio` on a thread."""
        if slot_id.startswith(system_prompts.PREFIX):
            text = system_prompts.text_of(slot_id, self.language)
            if text is None:
                return True, None
            spoken = self._spoken.get(text)
            return (True, spoken) if spoken is not None else (False, None)
        if slot_id.startswith(VOICEMAIL_PREFIX):
            return False, None
        cached = self._messages.get((tenant_id, slot_id))
        if cached is not None and time.monotonic() - cached[0] < SNAPSHOT_SECONDS:
            return True, cached[1]
        return False, None

    def _message(
        self, session: Session, blobs: BlobStore, tenant_id: int, slot_id: str
    ) -> bytes | None:
        """A company's message, read from the store at most once per few seconds: every
        caller hears the welcome, and a re-recording is heard on the next calls."""
        now = time.monotonic()
        cached = self._messages.get((tenant_id, slot_id))
        if cached is not None and now - cached[0] < SNAPSHOT_SECONDS:
            return cached[1]
        audio = _message(session, blobs, tenant_id, slot_id)
        self._messages[(tenant_id, slot_id)] = (now, audio)
        return audio

    def _system_prompt(self, slot_id: str) -> bytes | None:
        text = system_prompts.text_of(slot_id, self.language)
        if text is None:
            return None
        with self._speaking:  # espeak-ng has global state; one text is spoken once
            if text not in self._spoken:
                try:
                    self._spoken[text] = self.speak(text, self.language)
                except MediaError:
                    return None
            return self._spoken[text]

    # --- who calls -------------------------------------------------------------------

    def cached_owner(self, e164: str) -> int | None:
        """The company a number was found to belong to in the last few seconds (no
        database: the event loop asks first; None: ask `owner_of_number`)."""
        cached = self._owners.get(e164)
        if cached is not None and time.monotonic() - cached[0] < SNAPSHOT_SECONDS:
            return cached[1]
        return None

    def owner_of_number(self, session: Session, e164: str) -> int | None:
        """`tenant_of_number`, remembered for a few seconds when found (a burst of calls
        to a company's number looks it up once; unknown numbers are not kept)."""
        owner = self.tenant_of_number(session, e164)
        if owner is not None:
            self._owners[e164] = (time.monotonic(), owner)
        return owner

    @staticmethod
    def tenant_of_number(session: Session, e164: str) -> int | None:
        stmt = select(PhoneNumber.tenant_id).where(PhoneNumber.e164 == e164)
        owner = session.scalar(stmt)
        return int(owner) if owner is not None else None

    @staticmethod
    def user(session: Session, user_id: int) -> User | None:
        return session.get(User, user_id)


def _message(session: Session, blobs: BlobStore, tenant_id: int, slot_id: str) -> bytes | None:
    slot = session.get(MessageSlot, int(slot_id))
    if slot is None or slot.tenant_id != tenant_id or slot.deleted_at is not None:
        return None
    version = slot_service.current_version(session, slot)
    if version is None or not version.blob_sha256:
        return None
    return blobs.get(version.blob_sha256)


def _voicemail(session: Session, blobs: BlobStore, tenant_id: int, message_id: str) -> bytes | None:
    message = session.get(VoicemailMessage, int(message_id))
    if message is None or message.deleted_at is not None or not message.blob_sha256:
        return None
    box = session.get(VoicemailBox, message.box_id)
    owner = session.get(User, box.user_id) if box is not None else None
    if owner is None or owner.tenant_id != tenant_id:
        return None
    return blobs.get(message.blob_sha256)
