"""Fault injection: `backup create` and restores killed with SIGKILL at random points.

Each trial runs the real code in its own process (forked from a preloaded fork server, so a
trial costs milliseconds, not an interpreter start) and kills its whole process group
(pg_dump/pg_restore included) after a random delay within the length of a full run. After
every kill: the live store is undamaged, no partial backup is listed as complete, and the
next run completes. benchmarks/backup_bench.py runs more trials.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pbx.services.actor import cli_actor
from pbx.services.backup_restore import Selection, restore_media
from pbx.services.backup_restore_whole import restore_whole
from pbx.services.backup_verify import verify_backup
from pbx.services.backups import LiveSystem, create_backup, list_backups
from pbx.services.media_scan import scan_media
from storage.backups.manifest import file_sha256, iter_entries
from storage.backups.references import iter_references
from storage.backups.snapshot import pg_is_empty, pg_restore_mark, sqlite_is_empty, sqlite_path
from storage.backups.store import BackupSet, BackupStore
from storage.blobs import FileBlobStore
from storage.db import make_engine
from storage.models import AuditEvent, MediaVersion
from tests.integration.backup_world import (
    World,
    child_create,
    child_restore,
    delete_blobs,
    empty_database,
    live_contents,
    make_world,
)

TRIALS = 50
PRELOAD = [
    "psycopg",
    "sqlalchemy.dialects.postgresql.psycopg",
    "admin_web.runtime",
    "pbx.services.backups",
    "pbx.services.backup_restore",
    "pbx.services.backup_restore_whole",
    "tests.integration.backup_world",
]

pytestmark = pytest.mark.slow


@pytest.fixture
def world(db_url: str, tmp_path: Path):
    made = make_world(db_url, tmp_path / "data", companies=2, extra=6)
    yield made
    made.close()


def _context() -> Any:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def run_child(target: Callable[..., None], args: tuple, kill_after: float | None) -> tuple:
    """Run `target` in a child; SIGKILL its process group `kill_after` seconds after it has
    started (None: let it finish). Returns (finished normally, seconds it ran)."""
    ctx = _context()
    started = ctx.Event()
    child = ctx.Process(target=target, args=(*args, started))
    child.start()
    assert started.wait(60), "the child never started"
    begin = time.perf_counter()
    if kill_after is not None:
        time.sleep(kill_after)
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    child.join(120)
    return child.exitcode == 0, time.perf_counter() - begin


def _db_fingerprint(world: World) -> tuple:
    with world.session() as (session, _):
        refs = hashlib.sha256("".join(r.canonical() for r in iter_references(session)).encode())
        events = session.scalar(select(func.count()).select_from(AuditEvent))
        versions = session.scalar(select(func.count()).select_from(MediaVersion))
    return refs.hexdigest(), events, versions


def _assert_complete(backup: BackupSet) -> None:
    """A listed backup is whole: entries and snapshot as recorded, every blob present."""
    backup.check_entries()
    assert file_sha256(backup.database_path) == backup.manifest.database.sha256
    for entry in iter_entries(backup.entries_path):
        path = backup.blobs.path_for(entry.sha256)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256


def test_killed_backup_create_never_harms_and_the_next_run_completes(
    world: World, tmp_path: Path
) -> None:
    live_before, db_before = live_contents(world), _db_fingerprint(world)
    stores = [world.settings.data_dir / f"backups-{n}" for n in range(10)]
    settings = [_with_store(world, path) for path in stores]
    done, full_run = run_child(child_create, (settings[0],), None)
    assert done
    rng, kills, checked = random.Random(7), 0, set()
    for trial in range(TRIALS):
        # Ten stores: the first kills in each land in a full copy, later ones in increments.
        finished, _ = run_child(child_create, (settings[trial % 10],), rng.uniform(0, full_run))
        kills += not finished
        assert live_contents(world) == live_before
        assert _db_fingerprint(world) == db_before
        for path in stores:
            for backup in BackupStore(path).complete_sets():
                if backup.path not in checked:
                    _assert_complete(backup)
                    checked.add(backup.path)
    assert kills >= TRIALS // 2, f"only {kills} of {TRIALS} runs were killed mid-way"
    for path in stores:
        store = BackupStore.open(path, live_blob_dir=world.settings.blob_dir)
        final = create_backup(world.live(), store)
        listed = list_backups(store, include_incomplete=True)
        assert all(row.complete for row in listed) and listed[-1].backup_id == final.backup_id
    last = BackupStore(stores[-1]).get(final.backup_id)
    assert verify_backup(last, pg_server_url=world.settings.database_url).ok


def _with_store(world: World, path: Path) -> Any:
    from dataclasses import replace

    return replace(world.settings, backup_dir=path)


def test_killed_restores_never_harm_and_the_next_run_completes(
    world: World, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    store = world.store()
    backup = store.get(create_backup(world.live(), store).backup_id)
    baseline = live_contents(world)
    rng = random.Random(11)
    whole = _WholeTargets(world, request, tmp_path, backup)
    tenant = f"tenant:{next(iter(world.tenants.values()))}"
    modes = ["missing", tenant, "missing", tenant, "whole"]  # whole restores cost the most
    windows = {mode: _calibrate(world, backup, mode, whole, rng) for mode in set(modes)}
    kills = 0
    for trial in range(TRIALS):
        mode = modes[trial % len(modes)]
        finished = _restore_trial(world, backup, mode, whole, rng, windows[mode])
        kills += not finished
    assert kills >= TRIALS // 2, f"only {kills} of {TRIALS} restores were killed mid-way"
    _restore_missing_in_process(world, backup)
    assert live_contents(world) == baseline  # every lost blob back, byte-identical
    whole.finish()


def _calibrate(world: World, backup: BackupSet, mode: str, whole: Any, rng: random.Random) -> float:
    if mode != "whole":
        delete_blobs(world, rng.sample(sorted(live_contents(world)), 6))
    done, seconds = run_child(child_restore, _restore_args(world, backup, mode, whole), None)
    assert done
    if mode == "whole":
        whole.check(completed_expected=True)
    return seconds


def _restore_args(world: World, backup: BackupSet, mode: str, whole: Any) -> tuple:
    settings = whole.settings() if mode == "whole" else world.settings
    return settings, str(backup.path), mode


def _restore_trial(
    world: World, backup: BackupSet, mode: str, whole: Any, rng: random.Random, window: float
) -> bool:
    if mode != "whole":
        present = sorted(live_contents(world))
        delete_blobs(world, rng.sample(present, min(6, len(present))))
    before = live_contents(world)
    args = _restore_args(world, backup, mode, whole)
    delay = rng.uniform(0, window)
    t0 = time.perf_counter()
    finished, ran = run_child(child_restore, args, delay)
    print(
        "TRIAL", mode, round(delay, 3), finished, round(ran, 3), round(time.perf_counter() - t0, 3)
    )
    if mode == "whole":
        whole.check(completed_expected=finished)
        return finished
    after = live_contents(world)
    assert set(before) <= set(after), "a restore removed a live blob"
    # every blob in the live store is intact, so a referenced blob is either good or missing
    assert all(sha == content for sha, content in after.items()), "a live blob is damaged"
    return finished


def _restore_missing_in_process(world: World, backup: BackupSet) -> None:
    with world.session() as (session, blobs):
        report = restore_media(session, blobs, cli_actor(), backup, Selection(), missing_only=True)
    assert report.ok
    with world.session() as (session, blobs):
        assert scan_media(session, blobs).ok


class _WholeTargets:
    """Empty targets for whole restores; a target is reused until a restore into it has
    completed (so killed restores are resumed), then a new one is made."""

    def __init__(self, world: World, request: Any, tmp_path: Path, backup: BackupSet) -> None:
        self.world, self.request, self.root, self.backup = world, request, tmp_path, backup
        self.count = 0
        self._new()

    def _new(self) -> None:
        self.count += 1
        where = self.root / f"whole-{self.count}"
        self.url = empty_database(self.request, self.world, where)
        self.blob_dir = where / "blobs"

    def settings(self) -> Any:
        from dataclasses import replace

        return replace(self.world.settings, database_url=self.url, data_dir=self.blob_dir.parent)

    def check(self, completed_expected: bool) -> None:
        engine = make_engine(self.url)
        try:
            state = self._state(engine)
            assert state in ("empty", "in progress", "complete"), state
            if completed_expected:
                assert state == "complete"
            if state == "complete":
                self._assert_restored(engine)
        finally:
            engine.dispose()
        if state == "complete":
            self._new()

    def _state(self, engine: Any) -> str:
        if engine.dialect.name == "sqlite":
            return "empty" if sqlite_is_empty(sqlite_path(self.url)) else "complete"
        if pg_is_empty(engine):
            return "empty"
        return "in progress" if pg_restore_mark(engine) else "complete"

    def _assert_restored(self, engine: Any) -> None:
        with Session(engine) as session:
            report = scan_media(session, FileBlobStore(self.blob_dir))
        assert report.ok and report.references == self.backup.manifest.counts.references

    def finish(self) -> None:
        """The next run completes whatever state the last kill left."""
        target = LiveSystem(make_engine(self.url), "files", self.blob_dir)
        try:
            restore_whole(self.backup, target)
            self._assert_restored(target.engine)
        finally:
            target.engine.dispose()
