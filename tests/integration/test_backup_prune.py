"""Prune: a dry run first; removes only store objects no kept manifest references; never
touches the live store."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from admin_web.cli import cli
from pbx.media.wav import tone
from pbx.services.backups.manage import create_backup, list_backups, prune_backups
from pbx.services.backups.verify import verify_backup
from pbx.services.common.actor import SYSTEM
from pbx.services.library import slots
from storage.backups.manifest import iter_blob_ids
from storage.backups.prune import RetentionError, choose
from storage.backups.store import BackupSet, BackupStore, BackupStoreError, StoreBusy
from storage.models import MessageSlot
from tests.integration.backup_world import World, live_contents, make_world


@pytest.fixture
def world(db_url: str, tmp_path: Path):
    made = make_world(db_url, tmp_path / "data", companies=1)
    yield made
    made.close()


def _new_version(world: World, data: bytes) -> None:
    with world.session() as (session, blobs):
        slot = session.get(MessageSlot, next(iter(world.slots.values())))
        slots.add_version(session, blobs, SYSTEM, slot, data, source="upload", duration_ms=1)


def _three_backups(world: World) -> list[str]:
    """Three backups; each later one holds a blob the earlier ones do not."""
    ids = [create_backup(world.live(), world.store()).backup_id]
    for n in (1, 2):
        _new_version(world, tone(1000 + n, 100))
        ids.append(create_backup(world.live(), world.store()).backup_id)
    return ids


def test_dry_run_removes_nothing(world: World) -> None:
    _three_backups(world)
    store = world.store()
    objects = sorted(store.blobs.iter_ids())
    result = prune_backups(store, keep_daily=1, keep_weekly=0)
    assert not result.applied and len(result.plan.remove) == 2
    assert result.plan.orphan_blobs == 0  # the newest backup still holds every blob
    assert len(list_backups(store)) == 3 and sorted(store.blobs.iter_ids()) == objects


def test_prune_keeps_every_blob_a_kept_manifest_references(world: World) -> None:
    *_, third = _three_backups(world)
    store = world.store()
    kept = store.get(third)
    before_live = live_contents(world)
    result = prune_backups(store, keep_daily=1, keep_weekly=0, apply=True)
    assert [b.backup_id for b in result.plan.keep] == [third]
    assert [b.backup_id for b in list_backups(store)] == [third]
    assert set(store.blobs.iter_ids()) == set(iter_blob_ids(kept.entries_path))
    assert verify_backup(kept, pg_server_url=world.settings.database_url).ok
    assert live_contents(world) == before_live


def test_unreferenced_objects_are_removed_and_referenced_ones_are_not(world: World) -> None:
    store = world.store()
    kept = store.get(create_backup(world.live(), store).backup_id)
    orphan = store.blobs.put(b"left by a run that was killed before its manifest")
    plan = prune_backups(store, keep_daily=1, keep_weekly=1).plan
    assert plan.orphan_blobs == 1 and orphan in set(store.blobs.iter_ids())
    result = prune_backups(store, keep_daily=1, keep_weekly=1, apply=True)
    assert result.blobs_removed == 1
    assert set(store.blobs.iter_ids()) == set(iter_blob_ids(kept.entries_path))


def test_prune_refuses_to_keep_nothing_or_to_trust_a_damaged_manifest(world: World) -> None:
    store = world.store()
    kept = store.get(create_backup(world.live(), store).backup_id)
    with pytest.raises(RetentionError):
        prune_backups(store, keep_daily=0, keep_weekly=0, apply=True)
    kept.entries_path.write_text("")  # a kept entries file that lost its content
    objects = sorted(store.blobs.iter_ids())
    with pytest.raises(Exception, match="does not match"):
        prune_backups(store, keep_daily=1, keep_weekly=1, apply=True)
    assert sorted(store.blobs.iter_ids()) == objects


def test_prune_never_runs_on_the_live_store(world: World) -> None:
    create_backup(world.live(), world.store())
    before = live_contents(world)
    with pytest.raises(BackupStoreError, match="not a Växel backup store"):
        BackupStore.existing(world.settings.blob_dir)
    env = {
        "PBX_DATA_DIR": str(world.settings.data_dir),
        "PBX_DATABASE_URL": world.settings.database_url,
    }
    for target in (world.settings.blob_dir, world.settings.data_dir):
        (target / "VAXEL-BACKUP-STORE").write_text("a mistaken marker")
        args = ["backup", "prune", "--keep-daily", "1", "--keep-weekly", "0", "--yes"]
        result = CliRunner().invoke(cli, [*args, "--store", str(target)], env=env)
        assert result.exit_code == 1 and "overlaps the live media store" in result.output
        (target / "VAXEL-BACKUP-STORE").unlink()
    assert live_contents(world) == before


def test_cli_prune_shows_a_dry_run_then_acts_with_yes(world: World) -> None:
    _three_backups(world)
    env = {
        "PBX_DATA_DIR": str(world.settings.data_dir),
        "PBX_DATABASE_URL": world.settings.database_url,
    }
    runner = CliRunner()
    args = ["backup", "prune", "--keep-daily", "1", "--keep-weekly", "1"]
    dry = runner.invoke(cli, args, env=env)
    assert dry.exit_code == 0 and "dry run" in dry.output and "--yes" in dry.output
    assert len(list_backups(world.store())) == 3
    done = runner.invoke(cli, [*args, "--yes", "--json"], env=env)
    assert json.loads(done.output)["applied"] is True
    assert len(list_backups(world.store())) == 1


def _fake(backup: BackupSet, backup_id: str, created_at: str) -> BackupSet:
    manifest = replace(backup.manifest, backup_id=backup_id, created_at=created_at)
    return replace(backup, manifest=manifest)


def test_retention_keeps_the_newest_per_day_and_per_week(world: World) -> None:
    real = world.store().get(create_backup(world.live(), world.store()).backup_id)
    stamps = [
        "2026-11-02T03:00",
        "2026-11-09T03:00",
        "2026-11-16T03:00",
        "2026-11-20T03:00",
        "2026-11-21T03:00",
        "2026-11-22T03:00",
        "2026-11-22T15:00",
        "2026-11-23T03:00",
    ]
    sets = [_fake(real, f"b{i}", f"{s}:00+00:00") for i, s in enumerate(stamps)]
    keep, remove = choose(sets, keep_daily=2, keep_weekly=3)
    # days: the 23rd (b7) and the 22nd (its newest: b6); ISO weeks: 48 (b7), 47 (b6), 46 (b1)
    assert [b.backup_id for b in keep] == ["b1", "b6", "b7"]
    assert [b.backup_id for b in remove] == ["b0", "b2", "b3", "b4", "b5"]


def test_prune_never_removes_what_a_restore_or_verify_is_reading(world: World) -> None:
    store = world.store()
    kept = store.get(create_backup(world.live(), store).backup_id)
    with kept.reading(), pytest.raises(StoreBusy, match="is reading"):
        prune_backups(store, keep_daily=1, keep_weekly=0, apply=True)
    with store.excluding_readers(), pytest.raises(StoreBusy, match="prune is removing"):
        verify_backup(kept, pg_server_url=world.settings.database_url)
    assert verify_backup(kept, pg_server_url=world.settings.database_url).ok
