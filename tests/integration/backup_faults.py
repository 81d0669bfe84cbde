"""Fault injection for backups: real processes killed with SIGKILL at random points.

Shared by the test (50 trials each) and benchmarks/backup_bench.py (more trials). Each trial
runs the real code in a child forked from a preloaded fork server (milliseconds per trial,
not an interpreter start) and kills its whole process group (pg_dump/pg_restore included)
after a random delay within the length of a full run. Every invariant is an assertion:
- create: the live store and database are unchanged; every listed backup is complete
  (entries and snapshot as recorded, every blob present and intact); the next run completes;
- restore: no live blob disappears or is damaged; a whole restore's target is empty, marked
  in progress or complete (never half-visible); the next run completes, byte-identical.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pbx.services.backups.manage import LiveSystem, create_backup, list_backups
from pbx.services.backups.restore import Selection, restore_media
from pbx.services.backups.restore_whole import restore_whole
from pbx.services.backups.verify import verify_backup
from pbx.services.common.actor import cli_actor
from pbx.services.library.scan import scan_media
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
    live_contents,
)

PRELOAD = [
    "psycopg",
    "sqlalchemy.dialects.postgresql.psycopg",
    "admin_web.runtime",
    "pbx.services.backups.manage",
    "pbx.services.backups.restore",
    "pbx.services.backups.restore_whole",
    "tests.integration.backup_world",
]


@dataclass
class FaultStats:
    trials: int = 0
    kills: int = 0
    seconds: float = 0.0
    by_mode: dict[str, int] = field(default_factory=dict)


def run_child(target: Callable[..., None], args: tuple, kill_after: float | None) -> tuple:
    """Run `target` in a child; SIGKILL its process group `kill_after` seconds after it has
    started (None: let it finish). Returns (finished normally, seconds it ran)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
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


def db_fingerprint(world: World) -> tuple:
    with world.session() as (session, _):
        refs = hashlib.sha256("".join(r.canonical() for r in iter_references(session)).encode())
        events = session.scalar(select(func.count()).select_from(AuditEvent))
        versions = session.scalar(select(func.count()).select_from(MediaVersion))
    return refs.hexdigest(), events, versions


def assert_complete(backup: BackupSet) -> None:
    """A listed backup is whole: entries and snapshot as recorded, every blob intact."""
    backup.check_entries()
    assert file_sha256(backup.database_path) == backup.manifest.database.sha256
    for entry in iter_entries(backup.entries_path):
        path = backup.blobs.path_for(entry.sha256)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256


# --- backup create ---------------------------------------------------------------------------


def kill_creates(world: World, trials: int, seed: int = 7) -> FaultStats:
    """Kill `trials` creates at random points, checking every invariant after each; then a
    run to the end in every store, and a full verify of the last."""
    live_before, db_before = live_contents(world), db_fingerprint(world)
    stores = [world.settings.data_dir / f"backups-{n}" for n in range(10)]
    settings = [replace(world.settings, backup_dir=path) for path in stores]
    done, full_run = run_child(child_create, (settings[0],), None)
    assert done
    stats, rng, checked = FaultStats(), random.Random(seed), set()
    window = [full_run] * len(stores)  # how long the next run in each store is expected to take
    begin = time.perf_counter()
    for trial in range(trials):
        # Ten stores: the first kills in each land in a full copy, later ones in increments.
        n = trial % len(stores)
        finished, ran = run_child(child_create, (settings[n],), rng.uniform(0, window[n]))
        if finished:
            window[n] = ran  # the store now holds everything: later runs are increments
        stats.trials, stats.kills = stats.trials + 1, stats.kills + (not finished)
        assert live_contents(world) == live_before, "a backup changed the live store"
        assert db_fingerprint(world) == db_before, "a backup changed the live database"
        for path in stores:
            for backup in BackupStore(path).complete_sets():
                if backup.path not in checked:
                    assert_complete(backup)
                    checked.add(backup.path)
    stats.seconds = time.perf_counter() - begin
    _complete_every_store(world, stores)
    return stats


def _complete_every_store(world: World, stores: list[Path]) -> None:
    for path in stores:
        store = BackupStore.open(path, live_blob_dir=world.settings.blob_dir)
        final = create_backup(world.live(), store)
        listed = list_backups(store, include_incomplete=True)
        assert all(row.complete for row in listed) and listed[-1].backup_id == final.backup_id
    last = BackupStore(stores[-1]).get(final.backup_id)
    assert verify_backup(last, pg_server_url=world.settings.database_url).ok


# --- restore ---------------------------------------------------------------------------------

EmptyDatabase = Callable[[Path], str]  # where → URL of a new, empty database


def kill_restores(
    world: World, trials: int, empty_database: EmptyDatabase, seed: int = 11
) -> FaultStats:
    """Kill `trials` restores (missing-only, one company, whole) at random points; then the
    next runs complete and the live store is byte-identical to before the losses."""
    store = world.store()
    backup = store.get(create_backup(world.live(), store).backup_id)
    baseline, rng = live_contents(world), random.Random(seed)
    whole = WholeTargets(world, empty_database, backup)
    tenant = f"tenant:{next(iter(world.tenants.values()))}"
    modes = ["missing", tenant, "missing", tenant, "whole"]  # whole restores cost the most
    windows = {mode: _calibrate(world, backup, mode, whole, rng) for mode in set(modes)}
    stats, begin = FaultStats(), time.perf_counter()
    for trial in range(trials):
        mode = modes[trial % len(modes)]
        finished = _restore_trial(world, backup, mode, whole, rng, windows[mode])
        stats.trials, stats.kills = stats.trials + 1, stats.kills + (not finished)
        key = mode.split(":")[0]
        stats.by_mode[key] = stats.by_mode.get(key, 0) + (not finished)
    stats.seconds = time.perf_counter() - begin
    _restore_missing_in_process(world, backup)
    assert live_contents(world) == baseline  # every lost blob back, byte-identical
    whole.finish()
    return stats


def _calibrate(world: World, backup: BackupSet, mode: str, whole: Any, rng: random.Random) -> float:
    """How long a full run of `mode` takes: the shorter of two (a load spike on a shared
    machine must not stretch the window so far that few trials are killed)."""
    times = []
    for _ in range(2):
        if mode != "whole":
            delete_blobs(world, rng.sample(sorted(live_contents(world)), 6))
        done, seconds = run_child(child_restore, _restore_args(world, backup, mode, whole), None)
        assert done
        if mode == "whole":
            whole.check(completed_expected=True)
        times.append(seconds)
    return min(times)


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
    finished, _ = run_child(child_restore, args, rng.uniform(0, window))
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


class WholeTargets:
    """Empty targets for whole restores; a target is reused until a restore into it has
    completed (so killed restores are resumed), then a new one is made."""

    def __init__(self, world: World, empty_database: EmptyDatabase, backup: BackupSet) -> None:
        self.world, self.empty_database, self.backup = world, empty_database, backup
        self.count = 0
        self._new()

    def _new(self) -> None:
        self.count += 1
        where = self.world.settings.data_dir.parent / f"whole-{self.count}"
        self.url = self.empty_database(where)
        self.blob_dir = where / "blobs"

    def settings(self) -> Any:
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
