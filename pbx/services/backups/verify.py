"""Verify a backup: every byte re-read, every reference resolved, the snapshot opened.

1. the entries file is the one the manifest was written for;
2. every blob is re-read from the backup store and re-hashed; audio masters must decode to a
   non-zero duration and pictures must decode;
3. every reference names a blob of the backup, and the references' digest and counts are
   the manifest's;
4. the database snapshot matches its recorded hash, opens (SQLite: integrity check;
   PostgreSQL: restored into a scratch database on the server), and the references read
   from it are exactly the manifest's.

Verification owns its (read-only) sessions on the snapshot it opens (see
`pbx.services.backups`).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from pbx.errors import PbxError
from pbx.services.common.prefetch import ordered_map
from pbx.services.common.progress import Progress, no_progress
from pbx.services.library.scan import describe
from storage.backups import snapshot as snap
from storage.backups.checks import content_problem
from storage.backups.manifest import BlobEntry, ManifestError, RefDigest, file_sha256, iter_entries
from storage.backups.references import iter_references, tenants_of
from storage.backups.store import BackupSet
from storage.db import make_engine

MAX_NAMED = 200


class VerifyUnavailable(PbxError):
    code = "verify_unavailable"


@dataclass
class VerifyReport:
    backup_id: str
    blobs_checked: int = 0
    bytes_checked: int = 0
    references: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    database_ok: bool = False

    @property
    def ok(self) -> bool:
        return self.problem_count == 0 and self.database_ok

    def add(self, problem: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_NAMED:
            self.problems.append(problem)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def verify_backup(
    backup: BackupSet, *, pg_server_url: str | None = None, progress: Progress = no_progress
) -> VerifyReport:
    """Check a backup completely; the report names every bad blob and where it is used."""
    with backup.reading():
        return _verify(backup, pg_server_url, progress)


def _verify(backup: BackupSet, pg_server_url: str | None, progress: Progress) -> VerifyReport:
    report = VerifyReport(backup.backup_id)
    try:
        backup.check_entries()
    except ManifestError as exc:
        report.add(str(exc))
        return report
    digest = RefDigest()
    slugs = {t["id"]: t["slug"] for t in backup.manifest.tenants}
    with progress("verifying blobs", backup.manifest.counts.blobs) as advance:
        for entry, problem in _blob_problems(backup, iter_entries(backup.entries_path)):
            _check_entry(entry, problem, slugs, report, digest)
            advance(1)
    _check_totals(backup, report, digest)
    report.database_ok = _check_database(backup, report, pg_server_url)
    return report


def _blob_problems(
    backup: BackupSet, entries: Iterator[BlobEntry]
) -> Iterator[tuple[BlobEntry, str | None]]:
    """Each entry with its blob's problem (None: good), in order, read ahead in threads."""
    return ordered_map(lambda entry: _blob_problem(backup, entry), entries)


def _check_entry(
    entry: BlobEntry,
    problem: str | None,
    slugs: dict[Any, Any],
    report: VerifyReport,
    digest: RefDigest,
) -> None:
    for ref in entry.refs:
        digest.add(ref)
        if ref.sha256 != entry.sha256:
            report.add(f"reference to {ref.sha256[:12]}… is filed under another blob")
    report.blobs_checked += 1
    report.bytes_checked += entry.size
    report.references += len(entry.refs)
    if problem:
        used = "; ".join(describe(r, slugs.get(r.tenant_id, "(operators)")) for r in entry.refs)
        report.add(f"blob {entry.sha256} {problem} — used by {used}")


def _blob_problem(backup: BackupSet, entry: BlobEntry) -> str | None:
    try:
        return _content_problem(_read(backup.blobs.path_for(entry.sha256)), entry)
    except FileNotFoundError:
        return "is missing from the backup store"


_buffers = threading.local()


def _read(path: Path) -> memoryview:
    """The whole file, read into this thread's reusable buffer (no allocation per blob; the
    view is only valid until this thread reads the next one)."""
    with open(path, "rb", buffering=0) as fh:
        size = os.fstat(fh.fileno()).st_size
        buffer: bytearray | None = getattr(_buffers, "buffer", None)
        if buffer is None or len(buffer) < size:
            buffer = _buffers.buffer = bytearray(max(size, 1 << 20))
        view = memoryview(buffer)
        done = 0
        while done < size and (n := fh.readinto(view[done:size])):
            done += n
    return view[:done]


def _content_problem(data: memoryview, entry: BlobEntry) -> str | None:
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        return "is corrupt (its content no longer matches its hash)"
    if len(data) != entry.size:
        return f"has {len(data)} bytes, the manifest says {entry.size}"
    return content_problem(data, entry.kinds)


def _check_totals(backup: BackupSet, report: VerifyReport, digest: RefDigest) -> None:
    counts = backup.manifest.counts
    if report.blobs_checked != counts.blobs or report.references != counts.references:
        report.add(
            f"entries hold {report.blobs_checked} blobs/{report.references} references,"
            f" the manifest says {counts.blobs}/{counts.references}"
        )
    if digest.hexdigest() != backup.manifest.references_digest:
        report.add("the references in the entries file differ from the manifest's digest")


def _check_database(backup: BackupSet, report: VerifyReport, pg_server_url: str | None) -> bool:
    db = backup.manifest.database
    if not backup.database_path.is_file():
        report.add(f"database snapshot {db.file} is missing")
        return False
    if file_sha256(backup.database_path) != db.sha256:
        report.add(f"database snapshot {db.file} does not match its recorded hash")
        return False
    try:
        with open_snapshot(backup, pg_server_url) as session:
            return _snapshot_matches(backup, session, report)
    except (snap.SnapshotError, sqlite3.DatabaseError) as exc:
        report.add(f"database snapshot {db.file} does not open: {exc}")
        return False


@contextmanager
def open_snapshot(backup: BackupSet, pg_server_url: str | None) -> Iterator[Session]:
    """A read session on the backup's database (PostgreSQL: a scratch restore, dropped after)."""
    if backup.manifest.database.dialect == "sqlite":
        _sqlite_integrity(backup)
        engine = snap.sqlite_engine(backup.database_path, read_only=True)
        try:
            with Session(engine) as session:
                yield session
        finally:
            engine.dispose()
        return
    if not pg_server_url or not pg_server_url.startswith("postgresql"):
        raise VerifyUnavailable("opening a PostgreSQL backup needs a PostgreSQL server URL")
    with snap.pg_scratch_database(pg_server_url) as url:
        snap.pg_restore(backup.database_path, url)
        engine = make_engine(url)
        try:
            with Session(engine) as session:
                yield session
        finally:
            engine.dispose()


def _sqlite_integrity(backup: BackupSet) -> None:
    conn = sqlite3.connect(f"file:{backup.database_path}?mode=ro&immutable=1", uri=True)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    if result != "ok":
        raise snap.SnapshotError(f"integrity check: {result}")


def _snapshot_matches(backup: BackupSet, session: Session, report: VerifyReport) -> bool:
    differences = snapshot_differences(backup, session)
    for name in differences:
        report.add(f"database snapshot: {name} differ from the manifest")
    return not differences


def snapshot_differences(backup: BackupSet, session: Session) -> list[str]:
    """What differs between a database and a backup's manifest (empty: it holds exactly
    the backup's schema revision, companies and media references)."""
    manifest = backup.manifest
    revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    digest = RefDigest()
    for ref in iter_references(session):
        digest.add(ref)
    checks = {
        "schema revision": revision == manifest.database.alembic_revision,
        "references": digest.hexdigest() == manifest.references_digest,
        "companies": tenants_of(session) == manifest.tenants,
    }
    return [name for name, ok in checks.items() if not ok]
