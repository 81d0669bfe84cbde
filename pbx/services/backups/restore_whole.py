"""Whole restore: a backup into an EMPTY database and media store (a new server, a scratch
location for a drill). A database that holds anything is refused: a restore never deletes
or overwrites live data.

Crash safety (a restore may be killed at any instant and simply run again):
- blobs are written first, each atomically; a content-addressed store cannot be damaged by
  a blob written twice;
- SQLite: the snapshot is copied to a temporary file beside the target (media bodies added
  there when media lives in the database) and renamed into place last;
- PostgreSQL: the database is marked (its comment) before anything is written and unmarked
  when all is done; `pg_restore --single-transaction` leaves it empty if killed; with media
  in the database the blob rows follow in batches. A re-run resumes a marked database once
  it has checked it holds exactly this backup (schema revision, companies and the digest of
  every media reference); any other non-empty database is refused.

It owns its transactions (it takes an engine and commits batch by batch), like every
whole-database backup use case (see `pbx.services.backups`).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from pbx.services.backups.manage import LiveSystem
from pbx.services.backups.restore import RestoreRefused, RestoreReport
from pbx.services.backups.verify import snapshot_differences
from pbx.services.common.progress import Advance, Progress, no_progress
from storage.backups import snapshot as snap
from storage.backups.manifest import BlobEntry, fsync_dir, iter_entries
from storage.backups.store import BackupSet
from storage.blobs import BlobError, BlobStore, FileBlobStore, SqlBlobStore

BATCH_BYTES = 32 << 20  # blob rows per transaction when media lives in the database


def restore_whole(
    backup: BackupSet, target: LiveSystem, *, progress: Progress = no_progress
) -> RestoreReport:
    """Restore everything into an empty target; raises RestoreRefused and leaves the target
    database as it was when it is not empty or a backup blob fails its hash."""
    with backup.reading():
        return _restore_whole(backup, target, progress)


def _restore_whole(backup: BackupSet, target: LiveSystem, progress: Progress) -> RestoreReport:
    backup.check_entries()
    dialect = backup.manifest.database.dialect
    if target.dialect != dialect:
        raise RestoreRefused(
            f"backup {backup.backup_id} holds a {dialect} snapshot; the target is {target.dialect}"
        )
    report = RestoreReport(backup.backup_id, "whole", missing_only=False)
    if dialect == "sqlite":
        _restore_sqlite(backup, target, report, progress)
    else:
        _restore_postgres(backup, target, report, progress)
    return report


def _restore_sqlite(
    backup: BackupSet, target: LiveSystem, report: RestoreReport, progress: Progress
) -> None:
    path = snap.sqlite_path(target.engine.url)
    _refuse_unless_empty(snap.sqlite_is_empty(path), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.restoring-*"):
        stale.unlink()  # what a killed restore left; never visible as a database
    tmp = path.parent / f".{path.name}.restoring-{uuid.uuid4().hex}"
    try:
        shutil.copyfile(backup.database_path, tmp)
        if target.media_store == "database":
            _blobs_into_database(backup, snap.sqlite_engine(tmp), report, progress)
        else:
            _blobs_into_files(backup, FileBlobStore(target.blob_dir), report, progress)
        _refuse_if_refused(report)
        snap.fsync_file(tmp)
        _refuse_unless_empty(snap.sqlite_is_empty(path), str(path))
        for suffix in ("-wal", "-shm"):  # an empty database's journal must not meet ours
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _restore_postgres(
    backup: BackupSet, target: LiveSystem, report: RestoreReport, progress: Progress
) -> None:
    engine = target.engine
    resume = not snap.pg_is_empty(engine)
    if resume and not _resumable(backup, engine):
        _refuse_unless_empty(False, engine.url.render_as_string(hide_password=True))
    snap.set_pg_restore_mark(engine, backup.backup_id)
    if target.media_store == "files":
        _blobs_into_files(backup, FileBlobStore(target.blob_dir), report, progress)
        _refuse_if_refused(report)
    if not resume:
        snap.pg_restore(backup.database_path, engine.url)
    if target.media_store == "database":
        _blobs_into_database(backup, engine, report, progress)
        _refuse_if_refused(report)
    snap.set_pg_restore_mark(engine, None)


def _resumable(backup: BackupSet, engine: Engine) -> bool:
    """A non-empty target may only be a killed whole restore of this very backup: marked
    as such, and holding exactly its schema, companies and media references."""
    if snap.pg_restore_mark(engine) != backup.backup_id:
        return False
    with Session(engine) as session:
        return not snapshot_differences(backup, session)


def _refuse_unless_empty(empty: bool, where: str) -> None:
    if not empty:
        raise RestoreRefused(
            f"{where} is not empty: a whole restore only writes into an empty database"
            " (restore one company, one slot or --missing-only into a live one)"
        )


def _refuse_if_refused(report: RestoreReport) -> None:
    if report.refused:
        raise RestoreRefused(
            f"restore refused: {len(report.refused)} blob(s) in the backup"
            f" fail verification: {' | '.join(report.refused[:5])}"
        )


def _blobs_into_files(
    backup: BackupSet, store: FileBlobStore, report: RestoreReport, progress: Progress
) -> None:
    store.sweep_temp()
    with progress("restoring media", backup.manifest.counts.blobs) as advance:
        for entry in iter_entries(backup.entries_path):
            _copy_one(backup, store, entry.sha256, report)
            advance(1)


def _blobs_into_database(
    backup: BackupSet, engine: Engine, report: RestoreReport, progress: Progress
) -> None:
    entries = iter_entries(backup.entries_path)
    try:
        with progress("restoring media", backup.manifest.counts.blobs) as advance:
            batch_full = True
            while batch_full:
                with Session(engine) as session, session.begin():
                    batch_full = _one_batch(backup, SqlBlobStore(session), entries, report, advance)
    finally:
        engine.dispose()


def _one_batch(
    backup: BackupSet,
    store: SqlBlobStore,
    entries: Iterator[BlobEntry],
    report: RestoreReport,
    advance: Advance,
) -> bool:
    """Insert blobs up to BATCH_BYTES; False once the entries are exhausted."""
    written = 0
    for entry in entries:
        written += _copy_one(backup, store, entry.sha256, report)
        advance(1)
        if written >= BATCH_BYTES:
            return True
    return False


def _copy_one(backup: BackupSet, store: BlobStore, sha: str, report: RestoreReport) -> int:
    report.blobs_checked += 1
    try:
        data = backup.blobs.get(sha)
    except BlobError as exc:
        report.refused.append(f"{exc} in backup {backup.backup_id}")
        return 0
    store.put(data)
    report.blobs_restored += 1
    report.bytes_restored += len(data)
    return len(data)
