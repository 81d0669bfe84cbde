"""Content-addressed blob stores (SHA-256): files on disk, a database table, or memory.

All three share one interface and behave alike. `put` is idempotent, never overwrites good
content and repairs a corrupt copy (same hash, other bytes) with the right bytes; `get`
verifies the hash on every read and raises `BlobCorrupt` or `BlobMissing`; `status` says
'ok', 'missing' or 'corrupt'. There is no delete: losing media must be impossible in normal
operation (incident 2).
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import StoredBlob, utcnow

_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1 << 20
# A temp file untouched this long belongs to no running writer (one blob is written, synced
# and linked in seconds): the media scan and start-up remove such leftovers.
STALE_TEMP_SECONDS = 3600


class BlobError(Exception):
    """Base of blob store errors; carries the blob's hash."""

    def __init__(self, sha256: str, message: str) -> None:
        super().__init__(message)
        self.sha256 = sha256


class BlobMissing(BlobError):
    def __init__(self, sha256: str) -> None:
        super().__init__(sha256, f"blob {sha256[:12]}… is missing from the store")


class BlobCorrupt(BlobError):
    def __init__(self, sha256: str) -> None:
        super().__init__(sha256, f"blob {sha256[:12]}… fails verification (content changed)")


class InvalidBlobId(BlobError):
    def __init__(self, sha256: str) -> None:
        super().__init__(sha256, f"not a SHA-256 blob id: {sha256[:70]!r}")


def blob_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_id(sha256: str) -> str:
    if not isinstance(sha256, str) or not _HASH_RE.match(sha256):
        raise InvalidBlobId(str(sha256))
    return sha256


class BlobStore(Protocol):
    def put(self, data: bytes) -> str: ...
    def get(self, sha256: str) -> bytes: ...
    def exists(self, sha256: str) -> bool: ...
    def verify(self, sha256: str) -> None: ...
    def status(self, sha256: str) -> str: ...
    def iter_ids(self) -> Iterator[str]: ...


class _Status:
    """`status` for every store, from its own `verify`."""

    def verify(self, sha256: str) -> None:
        raise NotImplementedError

    def status(self, sha256: str) -> str:
        """'ok', 'missing' or 'corrupt' — re-reading and re-hashing the blob."""
        try:
            self.verify(sha256)
        except BlobCorrupt:
            return "corrupt"
        except BlobError:
            return "missing"
        return "ok"


class MemoryBlobStore(_Status):
    """For unit tests: same behaviour, no disk."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        sha = blob_id(data)
        if self._blobs.get(sha) is None or blob_id(self._blobs[sha]) != sha:
            self._blobs[sha] = bytes(data)
        return sha

    def get(self, sha256: str) -> bytes:
        data = self._blobs.get(check_id(sha256))
        if data is None:
            raise BlobMissing(sha256)
        if blob_id(data) != sha256:
            raise BlobCorrupt(sha256)
        return data

    def exists(self, sha256: str) -> bool:
        return check_id(sha256) in self._blobs

    def verify(self, sha256: str) -> None:
        self.get(sha256)

    def iter_ids(self) -> Iterator[str]:
        yield from sorted(self._blobs)


class FileBlobStore(_Status):
    """Blobs as files `objects/ab/cdef…` (git-style fan-out) under one root."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._objects = self.root / "objects"
        self._tmp = self.root / "tmp"

    def path_for(self, sha256: str) -> Path:
        check_id(sha256)
        return self._objects / sha256[:2] / sha256[2:]

    def put(self, data: bytes) -> str:
        sha = blob_id(data)
        final = self.path_for(sha)
        if final.exists() and self._file_ok(final, sha):
            return sha
        tmp = self._write_temp(data)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                # Only reached when the stored copy is corrupt: same hash, right bytes.
                os.replace(tmp, final)
            else:
                self._link_no_overwrite(tmp, final)
            _fsync_dir(final.parent)
        finally:
            tmp.unlink(missing_ok=True)
        return sha

    def _write_temp(self, data: bytes) -> Path:
        self._tmp.mkdir(parents=True, exist_ok=True)
        tmp = self._tmp / f"{uuid.uuid4().hex}.part"
        with open(tmp, "xb") as fh:
            os.fchmod(fh.fileno(), 0o444)  # blobs are immutable once written
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return tmp

    @staticmethod
    def _link_no_overwrite(tmp: Path, final: Path) -> None:
        try:
            os.link(tmp, final)
        except FileExistsError:
            pass  # a concurrent writer stored the same content first

    def get(self, sha256: str) -> bytes:
        path = self.path_for(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BlobMissing(sha256) from None
        if blob_id(data) != sha256:
            raise BlobCorrupt(sha256)
        return data

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def verify(self, sha256: str) -> None:
        """Stream-hash the file: raises BlobMissing/BlobCorrupt, returns None when good."""
        path = self.path_for(sha256)
        if not path.is_file():
            raise BlobMissing(sha256)
        if not self._file_ok(path, sha256):
            raise BlobCorrupt(sha256)

    @staticmethod
    def _file_ok(path: Path, sha256: str) -> bool:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest() == sha256

    def iter_ids(self) -> Iterator[str]:
        if not self._objects.is_dir():
            return
        for fan in sorted(self._objects.iterdir()):
            for item in sorted(fan.iterdir()):
                sha = fan.name + item.name
                if _HASH_RE.match(sha):
                    yield sha

    def sweep_temp(self, older_than: float = 0.0, now: float | None = None) -> int:
        """Remove temp files left by killed writers (they were never visible as blobs) that
        were last written more than `older_than` seconds ago; returns how many. A running
        writer fsyncs and links its file within seconds, so `STALE_TEMP_SECONDS` spares any
        writer still at work in another process; 0 is for when no writer can be running."""
        removed = 0
        limit = (time.time() if now is None else now) - older_than
        if self._tmp.is_dir():
            for item in self._tmp.glob("*.part"):
                try:
                    if older_than and item.stat().st_mtime > limit:
                        continue
                    item.unlink()
                except FileNotFoundError:
                    continue  # its writer finished (or another sweep took it) meanwhile
                removed += 1
        return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SqlBlobStore(_Status):
    """Blobs in the `blobs` table, written in the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def put(self, data: bytes) -> str:
        """Insert the blob; a stored row under the same hash with other bytes (a corrupt
        copy: the key is the hash of the right bytes) is rewritten, a good one left alone."""
        sha = blob_id(data)
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(StoredBlob).values(sha256=sha, size=len(data), data=data, created_at=utcnow())
        repair = stmt.on_conflict_do_update(
            index_elements=["sha256"],
            set_={"data": stmt.excluded.data, "size": stmt.excluded.size},
            where=StoredBlob.data != stmt.excluded.data,
        )
        self.session.execute(repair)
        return sha

    def get(self, sha256: str) -> bytes:
        data = self.session.scalar(
            select(StoredBlob.data).where(StoredBlob.sha256 == check_id(sha256))
        )
        if data is None:
            raise BlobMissing(sha256)
        if blob_id(bytes(data)) != sha256:
            raise BlobCorrupt(sha256)
        return bytes(data)

    def exists(self, sha256: str) -> bool:
        stmt = select(StoredBlob.sha256).where(StoredBlob.sha256 == check_id(sha256))
        return self.session.scalar(stmt) is not None

    def verify(self, sha256: str) -> None:
        self.get(sha256)

    def iter_ids(self) -> Iterator[str]:
        yield from self.session.scalars(select(StoredBlob.sha256).order_by(StoredBlob.sha256))
