"""The manifest of one backup, and its entries file.

A backup set is a directory holding the database snapshot, `entries.jsonl` and, written
last and atomically, `manifest.json`. Without a readable manifest the set is incomplete
and is never listed, verified or restored from.

`entries.jsonl` streams what the manifest is about, in blob-hash order: a `blob` line (hash,
size, what it holds) followed by one `ref` line per row that uses it. The manifest records
the entries file's own hash and an order-independent digest of all references, so a
snapshot can be checked against it without holding either in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from storage.backups.references import BlobRef

FORMAT = "vaxel-backup/1"
MANIFEST_NAME = "manifest.json"
ENTRIES_NAME = "entries.jsonl"
_MOD = 1 << 256


class ManifestError(Exception):
    """A manifest or entries file is missing, unreadable or does not match its hash."""


@dataclass(frozen=True)
class DatabaseSnapshot:
    dialect: str  # "sqlite" or "postgresql"
    file: str
    sha256: str
    size: int
    alembic_revision: str | None


@dataclass(frozen=True)
class Counts:
    blobs: int = 0
    bytes: int = 0
    references: int = 0
    new_blobs: int = 0
    new_bytes: int = 0


@dataclass(frozen=True)
class Manifest:
    backup_id: str
    created_at: str  # ISO 8601, UTC: when the database snapshot was taken
    finished_at: str
    media_store: str  # the live store it was taken from: "files" or "database"
    database: DatabaseSnapshot
    entries_sha256: str
    references_digest: str
    counts: Counts
    tenants: list[dict[str, Any]] = field(default_factory=list)
    format: str = FORMAT

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        if data.get("format") != FORMAT:
            raise ManifestError(f"unknown backup format {data.get('format')!r}")
        values = dict(data)
        values["database"] = DatabaseSnapshot(**data["database"])
        values["counts"] = Counts(**data["counts"])
        return cls(**values)


class RefDigest:
    """An order-independent digest of reference lines (a sum of their hashes)."""

    def __init__(self) -> None:
        self.total = 0
        self.count = 0

    def add(self, ref: BlobRef) -> None:
        line = ref.canonical().encode()
        self.total = (self.total + int.from_bytes(hashlib.sha256(line).digest(), "big")) % _MOD
        self.count += 1

    def hexdigest(self) -> str:
        return f"{self.total:064x}"


class EntriesWriter:
    """Writes entries.jsonl as it streams; hashes it, counts it, digests the references."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] = open(path, "xb")
        self._hash = hashlib.sha256()
        self.digest = RefDigest()
        self.blobs = 0
        self.bytes = 0
        self._last = ""

    def blob(self, sha256: str, size: int, kinds: list[str]) -> None:
        if sha256 <= self._last:
            raise ManifestError("blobs must be written in strictly increasing hash order")
        self._last = sha256
        self.blobs += 1
        self.bytes += size
        self._write({"blob": sha256, "size": size, "kinds": kinds})

    def ref(self, ref: BlobRef) -> None:
        self.digest.add(ref)
        self._write({"ref": ref.as_dict()})

    def _write(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n").encode()
        self._hash.update(line)
        self._fh.write(line)

    def close(self) -> str:
        """Flush and fsync; returns the file's SHA-256."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        return self._hash.hexdigest()

    def abort(self) -> None:
        self._fh.close()


@dataclass(frozen=True)
class BlobEntry:
    sha256: str
    size: int
    kinds: list[str]
    refs: list[BlobRef]


def iter_entries(path: Path) -> Iterator[BlobEntry]:
    """Stream the entries file one blob (with its references) at a time."""
    current: BlobEntry | None = None
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            record = _parse(line, path, number)
            if "blob" in record:
                if current is not None:
                    yield current
                current = BlobEntry(record["blob"], record["size"], record["kinds"], [])
            elif current is not None and "ref" in record:
                current.refs.append(BlobRef.from_dict(record["ref"]))
            else:
                raise ManifestError(f"{path.name} line {number}: unexpected record")
    if current is not None:
        yield current


def iter_blob_ids(path: Path) -> Iterator[str]:
    """Only the blob hashes of an entries file, in order (for pruning)."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith('{"blob"'):
                yield json.loads(line)["blob"]


def _parse(line: str, path: Path, number: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        raise ManifestError(f"{path.name} line {number} is not JSON (truncated?)") from None
    if not isinstance(record, dict):
        raise ManifestError(f"{path.name} line {number}: unexpected record")
    return record


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(set_dir: Path, manifest: Manifest) -> None:
    """The commit point of a backup: temp file, fsync, rename, fsync the directory."""
    body = json.dumps(manifest.as_dict(), indent=2, ensure_ascii=False).encode()
    tmp = set_dir / f".{MANIFEST_NAME}.{uuid.uuid4().hex}.tmp"
    with open(tmp, "xb") as fh:
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())
    os.rename(tmp, set_dir / MANIFEST_NAME)
    fsync_dir(set_dir)


def read_manifest(set_dir: Path) -> Manifest:
    path = set_dir / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"backup {set_dir.name} is incomplete (no manifest)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ManifestError(f"backup {set_dir.name}: unreadable manifest ({exc})") from None
    try:
        return Manifest.from_dict(data)
    except (KeyError, TypeError) as exc:
        raise ManifestError(f"backup {set_dir.name}: malformed manifest ({exc})") from None


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
