"""The blob store: verified reads, idempotent puts, crash-safe and concurrent writes."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from storage.blobs import (
    BlobCorrupt,
    BlobMissing,
    FileBlobStore,
    InvalidBlobId,
    MemoryBlobStore,
    SqlBlobStore,
    blob_id,
)
from tests.conftest import open_session

DATA = b"RIFF-not-really-audio" * 100


@pytest.fixture(params=["file", "memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "file":
        return FileBlobStore(tmp_path / "blobs")
    if request.param == "memory":
        return MemoryBlobStore()
    return SqlBlobStore(open_session(request, request.param))


def test_put_is_content_addressed_and_idempotent(store) -> None:
    sha = store.put(DATA)
    assert sha == blob_id(DATA)
    assert store.put(DATA) == sha
    assert store.get(sha) == DATA
    assert list(store.iter_ids()) == [sha]


def test_missing_blob_raises_specific_error(store) -> None:
    with pytest.raises(BlobMissing):
        store.get(blob_id(b"never stored"))
    assert not store.exists(blob_id(b"never stored"))


def test_malformed_id_is_refused(store) -> None:
    with pytest.raises(InvalidBlobId):
        store.get("../../etc/passwd")


def test_corruption_is_detected_on_read(file_blobs: FileBlobStore) -> None:
    sha = file_blobs.put(DATA)
    path = file_blobs.path_for(sha)
    os.chmod(path, 0o644)
    raw = bytearray(path.read_bytes())
    raw[10] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(BlobCorrupt):
        file_blobs.get(sha)
    with pytest.raises(BlobCorrupt):
        file_blobs.verify(sha)
    # Putting the right content again repairs it (same hash, right bytes).
    file_blobs.put(DATA)
    assert file_blobs.get(sha) == DATA


def test_corruption_in_database_store_is_detected(session: Session) -> None:
    from storage.models import StoredBlob

    store = SqlBlobStore(session)
    sha = store.put(DATA)
    session.get(StoredBlob, sha).data = b"tampered"
    session.flush()
    with pytest.raises(BlobCorrupt):
        store.get(sha)


def test_database_store_put_repairs_a_corrupt_copy(session: Session) -> None:
    """Like the file store: putting the right bytes again rewrites a corrupt row (SQLite
    and PostgreSQL), and leaves a good row alone."""
    from storage.models import StoredBlob

    store = SqlBlobStore(session)
    sha = store.put(DATA)
    created = session.get(StoredBlob, sha).created_at
    session.get(StoredBlob, sha).data = b"tampered"
    session.flush()
    assert store.status(sha) == "corrupt"
    assert store.put(DATA) == sha
    session.expire_all()
    assert store.get(sha) == DATA
    assert store.status(sha) == "ok"
    row = session.get(StoredBlob, sha)
    assert (row.size, row.created_at) == (len(DATA), created)
    assert store.put(DATA) == sha and list(store.iter_ids()) == [sha]


def test_status_belongs_to_every_store(store) -> None:
    sha = store.put(DATA)
    assert store.status(sha) == "ok"
    assert store.status(blob_id(b"never stored")) == "missing"


def _put_many(root: str, data: bytes, rounds: int) -> None:
    store = FileBlobStore(root)
    for _ in range(rounds):
        store.put(data)


def test_concurrent_put_from_two_processes_leaves_one_good_blob(tmp_path: Path) -> None:
    data = os.urandom(256 * 1024)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_put_many, args=(str(tmp_path), data, 20)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = FileBlobStore(tmp_path)
    assert list(store.iter_ids()) == [blob_id(data)]
    assert store.get(blob_id(data)) == data
    assert list((tmp_path / "tmp").glob("*")) == []


_WRITER = """
import sys
from storage.blobs import FileBlobStore
store = FileBlobStore(sys.argv[1])
print("ready", flush=True)
data = bytes(64 * 1024 * 1024)
store.put(data)
"""


def test_killed_write_never_leaves_a_visible_partial_blob(tmp_path: Path) -> None:
    for delay in (0.05, 0.15, 0.3):
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        proc.stdout.readline()
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        store = FileBlobStore(tmp_path)
        for sha in store.iter_ids():
            store.verify(sha)  # anything visible is complete and correct
    store.sweep_temp()
    assert list((tmp_path / "tmp").glob("*.part")) == []
