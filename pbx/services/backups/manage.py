"""Backups: create, verify, list and prune (restores and drills have modules of their own).

A backup is a consistent database snapshot plus every blob a row refers to, copied once into
a content-addressed store, plus a manifest naming every blob and every reference to it. It
fails loudly — naming the company and slot — when a referenced blob is missing or corrupt in
the live store, and it only ever reads the live store. See README "Operations: backups".

These use cases work on whole databases, not inside a caller's unit of work: a backup opens
its own read-only snapshot transaction, so they take the engine instead of a session.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from pbx.errors import PbxError
from pbx.services.common.prefetch import WORKERS, ordered_map
from pbx.services.common.progress import Progress, no_progress
from pbx.services.library.scan import describe
from storage.backups import prune
from storage.backups import snapshot as snap
from storage.backups.checks import kinds_of
from storage.backups.manifest import (
    ENTRIES_NAME,
    Counts,
    DatabaseSnapshot,
    EntriesWriter,
    Manifest,
    file_sha256,
    write_manifest,
)
from storage.backups.references import BlobRef, count_references, iter_references, tenants_of
from storage.backups.store import BackupStore, ObjectIndex
from storage.blobs import BlobError, BlobStore, FileBlobStore, SqlBlobStore
from storage.models import utcnow

MAX_NAMED = 20  # problems named in full in one error message
_by_blob = attrgetter("sha256")


class BackupFailed(PbxError):
    code = "backup_failed"


@dataclass(frozen=True)
class LiveSystem:
    """What a backup is taken from (or a whole restore written to): a database and the
    media store configured for it."""

    engine: Engine
    media_store: str  # "files" or "database"
    blob_dir: Path

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


@dataclass
class _Copied:
    entries_sha256: str
    digest: str
    counts: Counts


class _Failures:
    """Blobs a backup could not take, described by company and slot."""

    def __init__(self, tenants: list[dict[str, object]]) -> None:
        self.slugs = {t["id"]: str(t["slug"]) for t in tenants}
        self.lines: list[str] = []
        self.count = 0

    def add(self, sha: str, status: str, refs: list[BlobRef]) -> None:
        self.count += 1
        if len(self.lines) < MAX_NAMED:
            used = "; ".join(describe(r, self.slugs.get(r.tenant_id, "(operators)")) for r in refs)
            self.lines.append(f"blob {sha[:12]}… {status}, used by {used}")

    def message(self) -> str:
        more = f" (and {self.count - len(self.lines)} more)" if self.count > len(self.lines) else ""
        return (
            f"backup failed, no backup was written: {self.count} referenced blob(s) missing or"
            f" corrupt in the live store: {' | '.join(self.lines)}{more}"
        )


def create_backup(
    live: LiveSystem, store: BackupStore, *, full: bool = False, progress: Progress = no_progress
) -> Manifest:
    """Take one backup into `store`. `full` also re-hashes the store's existing copies
    (repairing any that rotted) instead of trusting their size."""
    store.refuse_overlap(live.blob_dir)
    with store.lock(exclusive=True):
        store.sweep_incomplete()
        set_dir = store.new_set_dir()
        try:
            manifest = _take(live, store, set_dir, full, progress)
            write_manifest(set_dir, manifest)  # the commit point: written last, atomically
        except BaseException:
            shutil.rmtree(set_dir, ignore_errors=True)
            raise
    return manifest


def _take(
    live: LiveSystem, store: BackupStore, set_dir: Path, full: bool, progress: Progress
) -> Manifest:
    started = utcnow()
    with _snapshot(live, set_dir) as (session, source, db_file):
        tenants = tenants_of(session)
        revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        copied = _copy_referenced(session, source, store, set_dir, full, progress, tenants)
    db_path = set_dir / db_file
    database = DatabaseSnapshot(
        live.dialect, db_file, file_sha256(db_path), db_path.stat().st_size, revision
    )
    return Manifest(
        backup_id=set_dir.name,
        created_at=started.isoformat(),
        finished_at=utcnow().isoformat(),
        media_store=live.media_store,
        database=database,
        entries_sha256=copied.entries_sha256,
        references_digest=copied.digest,
        counts=copied.counts,
        tenants=tenants,
    )


@contextmanager
def _snapshot(live: LiveSystem, set_dir: Path) -> Iterator[tuple[Session, BlobStore, str]]:
    """A session on one consistent state of the database, the store its blobs are read
    from, and the snapshot file's name."""
    in_db = live.media_store == "database"
    if live.dialect == "postgresql":
        dump = set_dir / snap.PG_FILE
        with snap.pg_consistent_read(live.engine, dump, skip_blob_bodies=in_db) as session:
            yield session, _source(live, session), snap.PG_FILE
        return
    path = set_dir / snap.SQLITE_FILE
    snap.sqlite_snapshot(snap.sqlite_path(live.engine.url), path)
    engine = snap.sqlite_engine(path)
    try:
        with Session(engine) as session:
            yield session, _source(live, session), snap.SQLITE_FILE
    finally:
        engine.dispose()
    if in_db:
        snap.strip_blob_bodies(path)
    snap.fsync_file(path)


def _source(live: LiveSystem, session: Session) -> BlobStore:
    return SqlBlobStore(session) if live.media_store == "database" else FileBlobStore(live.blob_dir)


def _copy_referenced(
    session: Session,
    source: BlobStore,
    store: BackupStore,
    set_dir: Path,
    full: bool,
    progress: Progress,
    tenants: list[dict[str, object]],
) -> _Copied:
    writer = EntriesWriter(set_dir / ENTRIES_NAME)
    failures = _Failures(tenants)
    index = ObjectIndex(store.blobs)
    new_blobs = new_bytes = 0
    groups = ((sha, list(refs)) for sha, refs in groupby(iter_references(session), _by_blob))
    # Files are read and hashed ahead in threads; a database session is used by one only.
    workers = WORKERS if isinstance(source, FileBlobStore) else 1
    with progress("backing up media", count_references(session)) as advance:
        for (sha, refs), read in ordered_map(lambda g: _read(source, g[0]), groups, workers):
            data = _read_live(read, sha, refs, failures, source)
            if data is not None:
                if _keep_copy(index, sha, data, full):
                    new_blobs, new_bytes = new_blobs + 1, new_bytes + len(data)
                writer.blob(sha, len(data), kinds_of(refs))
                for ref in refs:
                    writer.ref(ref)
            advance(len(refs))
    if failures.count:
        writer.abort()
        raise BackupFailed(failures.message())
    counts = Counts(writer.blobs, writer.bytes, writer.digest.count, new_blobs, new_bytes)
    return _Copied(writer.close(), writer.digest.hexdigest(), counts)


def _read(source: BlobStore, sha: str) -> bytes | BlobError:
    try:
        return source.get(sha)  # verifies the hash: a corrupt blob is never backed up
    except BlobError as exc:
        return exc


def _read_live(
    read: bytes | BlobError, sha: str, refs: list[BlobRef], failures: _Failures, source: BlobStore
) -> bytes | None:
    if isinstance(read, BlobError):
        failures.add(sha, source.status(sha), refs)
        return None
    return read


def _keep_copy(index: ObjectIndex, sha: str, data: bytes, full: bool) -> bool:
    """Copy a blob into the backup store unless it is there; True when it was copied.
    Copies already there are trusted here (verify re-reads them; `full` re-hashes them now
    and repairs any that rotted)."""
    present = index.has(sha)
    if present and not full:
        return False
    index.blobs.put(data)  # idempotent; replaces a stored copy that fails its hash
    index.added(sha)
    return not present


# --- list and prune -------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupListing:
    backup_id: str
    created_at: str
    complete: bool
    database: str
    blobs: int
    bytes: int
    references: int
    new_blobs: int
    companies: int


def list_backups(store: BackupStore, *, include_incomplete: bool = False) -> list[BackupListing]:
    """Complete backups, oldest first; a set without its manifest is never one of them."""
    rows = [
        BackupListing(
            b.backup_id,
            b.manifest.created_at,
            True,
            b.manifest.database.dialect,
            b.manifest.counts.blobs,
            b.manifest.counts.bytes,
            b.manifest.counts.references,
            b.manifest.counts.new_blobs,
            len(b.manifest.tenants),
        )
        for b in store.complete_sets()
    ]
    if include_incomplete:
        rows += [
            BackupListing(name, "", False, "", 0, 0, 0, 0, 0)
            for name in (p.name for p in store.incomplete_set_dirs())
        ]
    return rows


@dataclass(frozen=True)
class PruneResult:
    plan: prune.PrunePlan
    applied: bool
    blobs_removed: int


def prune_backups(
    store: BackupStore, *, keep_daily: int, keep_weekly: int, apply: bool = False
) -> PruneResult:
    """Plan (and with `apply`, carry out) retention. Only the backup store is touched: sets
    outside the policy, then objects that no kept set references."""
    with store.lock(exclusive=True), store.excluding_readers():
        plan = prune.plan(store, keep_daily, keep_weekly)
        removed = prune.apply(store, plan) if apply else 0
    return PruneResult(plan, apply, removed)
