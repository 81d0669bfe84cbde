"""Retention: which backup sets to keep, and which store objects no kept set references.

Only the backup store is ever touched. Unreferenced blobs are found by a merge-join of two
sorted streams (the store's objects and the kept sets' entries files), so memory stays
constant whatever the number of blobs.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from storage.backups.manifest import iter_blob_ids
from storage.backups.store import BackupSet, BackupStore


class RetentionError(Exception):
    pass


@dataclass
class PrunePlan:
    keep: list[BackupSet]
    remove: list[BackupSet]
    incomplete: list[str]
    orphan_blobs: int = 0
    orphan_bytes: int = 0


def choose(
    sets: list[BackupSet], keep_daily: int, keep_weekly: int
) -> tuple[list[BackupSet], list[BackupSet]]:
    """Keep the newest set of each of the last `keep_daily` days and `keep_weekly` ISO weeks
    that have backups. Refuses a policy that would keep nothing."""
    if keep_daily < 0 or keep_weekly < 0:
        raise RetentionError("--keep-daily and --keep-weekly must not be negative")
    if keep_daily + keep_weekly == 0 and sets:
        raise RetentionError("this policy keeps no backup at all; keep at least one")
    newest_first = sorted(sets, key=lambda s: s.manifest.created_at, reverse=True)
    kept_ids = _newest_per_period(newest_first, keep_daily, lambda d: d.date().isoformat())
    kept_ids |= _newest_per_period(newest_first, keep_weekly, _iso_week)
    keep = [s for s in sets if s.backup_id in kept_ids]
    remove = [s for s in sets if s.backup_id not in kept_ids]
    return keep, remove


def _iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def _newest_per_period(
    newest_first: list[BackupSet], count: int, period: Callable[[datetime], str]
) -> set[str]:
    kept: dict[str, str] = {}
    for backup in newest_first:
        key = period(datetime.fromisoformat(backup.manifest.created_at))
        if key not in kept and len(kept) < count:
            kept[key] = backup.backup_id
    return set(kept.values())


def referenced_ids(kept: Iterable[BackupSet]) -> Iterator[str]:
    """Every blob id some kept set uses, ascending, each once."""
    last = None
    for sha in heapq.merge(*(iter_blob_ids(s.entries_path) for s in kept)):
        if sha != last:
            yield sha
            last = sha


def unreferenced(store: BackupStore, kept: list[BackupSet]) -> Iterator[str]:
    """Store objects that no kept set references (both streams ascending)."""
    wanted = referenced_ids(kept)
    current = next(wanted, None)
    for sha in store.blobs.iter_ids():
        while current is not None and current < sha:
            current = next(wanted, None)
        if current != sha:
            yield sha


def plan(store: BackupStore, keep_daily: int, keep_weekly: int) -> PrunePlan:
    keep, remove = choose(list(store.complete_sets()), keep_daily, keep_weekly)
    for backup in keep:
        backup.check_entries()  # never collect garbage from a damaged entries file
    result = PrunePlan(keep, remove, [p.name for p in store.incomplete_set_dirs()])
    for sha in unreferenced(store, keep):
        result.orphan_blobs += 1
        result.orphan_bytes += store.blobs.path_for(sha).stat().st_size
    return result


def apply(store: BackupStore, prune_plan: PrunePlan) -> int:
    """Remove the planned sets, then every object no kept set references; returns the
    number of objects removed. Call under the store's exclusive lock."""
    for backup in prune_plan.remove:
        store.remove_set(backup)
    store.sweep_incomplete()
    removed = 0
    # Safe while iterating: FileBlobStore.iter_ids lists each fan-out directory up front.
    for sha in unreferenced(store, prune_plan.keep):
        store.blobs.path_for(sha).unlink(missing_ok=True)
        removed += 1
    return removed
