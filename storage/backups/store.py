"""The backup store: one directory of content-addressed blobs shared by all backup sets.

```
ROOT/
  VAXEL-BACKUP-STORE      marker: prune refuses to work anywhere without it
  .lock, .readers         flocks: creates and prunes one at a time; verify, restore and
                          drill share .readers, which prune takes alone
  blobs/objects/ab/cd…    a FileBlobStore: a blob is copied once, whatever the number of sets
  sets/<id>/              database snapshot, entries.jsonl, manifest.json (written last)
  drills/<id>/…           restore-drill certificates (JSON and text)
```

A set is complete when its manifest is readable; anything else in `sets/` is what a killed
run left and is swept by the next create or prune (under the exclusive lock, so never a
set that is still being written).
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from storage.backups.manifest import (
    ENTRIES_NAME,
    Manifest,
    ManifestError,
    file_sha256,
    read_manifest,
)
from storage.blobs import FileBlobStore

MARKER = "VAXEL-BACKUP-STORE"


class BackupStoreError(Exception):
    """The backup store cannot be used as asked; the message says why."""


class StoreBusy(BackupStoreError):
    pass


@dataclass(frozen=True)
class BackupSet:
    """A complete backup: its directory and its manifest."""

    path: Path
    manifest: Manifest
    blobs: FileBlobStore

    @property
    def backup_id(self) -> str:
        return self.manifest.backup_id

    @property
    def entries_path(self) -> Path:
        return self.path / ENTRIES_NAME

    @property
    def database_path(self) -> Path:
        return self.path / self.manifest.database.file

    def reading(self) -> AbstractContextManager[None]:
        """Held while a backup is read (verify, restore, drill): prune waits for it."""
        message = "a prune is removing backups from this store; try again when it is done"
        return _flock(self.path.parent.parent / ".readers", False, message)

    def check_entries(self) -> None:
        """The entries file is the one the manifest was written for."""
        if not self.entries_path.is_file():
            raise ManifestError(f"backup {self.backup_id}: {ENTRIES_NAME} is missing")
        if file_sha256(self.entries_path) != self.manifest.entries_sha256:
            raise ManifestError(f"backup {self.backup_id}: {ENTRIES_NAME} does not match")


class BackupStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.blobs = FileBlobStore(self.root / "blobs")
        self.sets_dir = self.root / "sets"
        self.drills_dir = self.root / "drills"

    @classmethod
    def open(
        cls, root: str | os.PathLike[str], *, live_blob_dir: Path | None = None
    ) -> BackupStore:
        """Open (creating if needed) a store; never one that overlaps the live blob store."""
        store = cls(root)
        if live_blob_dir is not None:
            store.refuse_overlap(live_blob_dir)
        store.sets_dir.mkdir(parents=True, exist_ok=True)
        marker = store.root / MARKER
        if not marker.exists():
            marker.write_text("Växel backup store. Managed by `pbx backup`; do not edit.\n")
        return store

    @classmethod
    def existing(cls, root: str | os.PathLike[str]) -> BackupStore:
        store = cls(root)
        if not (store.root / MARKER).is_file():
            raise BackupStoreError(f"{store.root} is not a Växel backup store")
        return store

    def refuse_overlap(self, live_blob_dir: Path) -> None:
        mine, live = self.root.resolve(), Path(live_blob_dir).resolve()
        if mine == live or mine.is_relative_to(live) or live.is_relative_to(mine):
            raise BackupStoreError(
                f"backup store {mine} overlaps the live media store {live}; choose another"
            )

    @contextmanager
    def lock(self, *, exclusive: bool) -> Iterator[None]:
        """The writers' lock: creates and prunes, one at a time."""
        message = f"another backup create or prune is using {self.root}"
        with _flock(self.root / ".lock", exclusive, message):
            yield

    @contextmanager
    def excluding_readers(self) -> Iterator[None]:
        """Held by prune while it removes sets and objects: no verify, restore or drill may
        be reading then."""
        message = f"a verify, restore or drill is reading from {self.root}; prune later"
        with _flock(self.root / ".readers", True, message):
            yield

    def new_set_dir(self, now: datetime | None = None) -> Path:
        # Ids sort by time; unique because creates hold the store's exclusive lock.
        path = self.sets_dir / f"{now or datetime.now(UTC):%Y%m%dT%H%M%S.%fZ}"
        path.mkdir(parents=True)
        return path

    def complete_sets(self) -> Iterator[BackupSet]:
        """Complete sets, oldest first (ids sort by time)."""
        for path in self._set_dirs():
            try:
                manifest = read_manifest(path)
            except ManifestError:
                continue
            yield BackupSet(path, manifest, self.blobs)

    def incomplete_set_dirs(self) -> list[Path]:
        return [p for p in self._set_dirs() if not _has_manifest(p)]

    def _set_dirs(self) -> list[Path]:
        if not self.sets_dir.is_dir():
            return []
        return sorted(p for p in self.sets_dir.iterdir() if p.is_dir())

    def get(self, name: str) -> BackupSet:
        """A complete set by id (or a unique prefix of one); "latest" is the newest."""
        if name == "latest":
            complete = list(self.complete_sets())  # manifests only: small
            if not complete:
                raise BackupStoreError(f"no complete backup in {self.root}")
            return complete[-1]
        matches = [p for p in self._set_dirs() if p.name == name or p.name.startswith(name)]
        exact = [p for p in matches if p.name == name]
        if len(exact) == 1 or len(matches) == 1:
            path = (exact or matches)[0]
            return BackupSet(path, read_manifest(path), self.blobs)
        if not matches:
            raise BackupStoreError(f"no backup {name!r} in {self.root}")
        raise BackupStoreError(f"{name!r} matches {len(matches)} backups; give more of the id")

    def sweep_incomplete(self) -> list[str]:
        """Remove what killed runs left (call only under the exclusive lock)."""
        removed = [p.name for p in self.incomplete_set_dirs()]
        for name in removed:
            shutil.rmtree(self.sets_dir / name)
        self.blobs.sweep_temp()
        return removed

    def save_certificate(self, backup_id: str, stamp: str, as_json: str, as_text: str) -> Path:
        """Keep a drill certificate beside the backups (drills/<backup>/<stamp>.json|.txt)."""
        folder = self.drills_dir / backup_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{stamp}.txt").write_text(as_text, encoding="utf-8")
        path = folder / f"{stamp}.json"
        path.write_text(as_json, encoding="utf-8")
        return path

    def remove_set(self, backup: BackupSet) -> None:
        """Manifest first: from that instant the set is incomplete, never half-listed."""
        (backup.path / "manifest.json").unlink()
        shutil.rmtree(backup.path)


@contextmanager
def _flock(path: Path, exclusive: bool, busy: str) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        try:
            fcntl.flock(fh, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreBusy(busy) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _has_manifest(path: Path) -> bool:
    return (path / "manifest.json").is_file()


class ObjectIndex:
    """Which objects the store holds, one fan-out directory at a time: blobs arrive in hash
    order, so one directory listing answers ~1/256 of them (instead of a stat per blob),
    and memory holds one directory's names at most."""

    def __init__(self, blobs: FileBlobStore) -> None:
        self.blobs = blobs
        self._fan = ""
        self._names: set[str] = set()

    def has(self, sha: str) -> bool:
        fan = sha[:2]
        if fan != self._fan:
            folder = self.blobs.path_for(sha).parent
            self._names = set(os.listdir(folder)) if folder.is_dir() else set()
            self._fan = fan
        return sha[2:] in self._names

    def added(self, sha: str) -> None:
        if sha[:2] == self._fan:
            self._names.add(sha[2:])


def resolve_backup(reference: str, default_root: Path) -> BackupSet:
    """A backup named by id (in the default store) or by the path of its set directory."""
    path = Path(reference)
    if path.is_dir() and (path / "manifest.json").exists() or path.parent.name == "sets":
        store = BackupStore.existing(path.resolve().parent.parent)
        return store.get(path.name)
    return BackupStore.existing(default_root).get(reference)
