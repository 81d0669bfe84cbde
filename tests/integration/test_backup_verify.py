"""Verify re-reads everything: a flipped byte, a lost blob, undecodable audio, a damaged
entries file or snapshot are all named; restore refuses what verify rejects."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from admin_web.cli import cli
from pbx.services.backups.manage import LiveSystem, create_backup
from pbx.services.backups.restore import RestoreRefused, Selection, restore_media
from pbx.services.backups.restore_whole import restore_whole
from pbx.services.backups.verify import verify_backup
from pbx.services.common.actor import SYSTEM, cli_actor
from pbx.services.library import slots
from storage.backups.manifest import ManifestError, iter_entries
from storage.backups.snapshot import pg_is_empty, sqlite_is_empty
from storage.backups.store import BackupSet
from storage.db import make_engine
from storage.models import MessageSlot
from tests.integration.backup_world import (
    World,
    delete_blobs,
    empty_database,
    flip_byte,
    make_world,
)


@pytest.fixture
def world(db_url: str, tmp_path: Path):
    made = make_world(db_url, tmp_path / "data")
    yield made
    made.close()


def _backup(world: World) -> BackupSet:
    store = world.store()
    return store.get(create_backup(world.live(), store).backup_id)


def _verify(world: World, backup: BackupSet):
    return verify_backup(backup, pg_server_url=world.settings.database_url)


def _entry(backup: BackupSet, owner: str):
    return next(e for e in iter_entries(backup.entries_path) if e.refs[0].owner == owner)


def test_a_flipped_byte_in_a_backup_blob_is_named_and_refused(world: World) -> None:
    backup = _backup(world)
    entry = _entry(backup, "voicemail_message")
    flip_byte(backup.blobs.path_for(entry.sha256))
    report = _verify(world, backup)
    assert not report.ok and report.problem_count == 1
    (problem,) = report.problems
    assert entry.sha256 in problem and "corrupt" in problem and "voicemail message" in problem
    assert report.database_ok  # the rest of the backup is fine
    delete_blobs(world, [entry.sha256])
    restored = _restore(world, backup)
    assert [entry.sha256[:12] in line for line in restored.refused] == [True]
    assert restored.blobs_restored == 0 and not restored.ok


def _restore(world: World, backup: BackupSet):
    with world.session() as (session, blobs):
        return restore_media(session, blobs, cli_actor(), backup, Selection(), missing_only=True)


def test_whole_restore_refuses_a_corrupt_backup_and_leaves_the_target_empty(
    world: World, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    backup = _backup(world)
    flip_byte(backup.blobs.path_for(_entry(backup, "slot_version").sha256))
    url = empty_database(request, world, tmp_path / "new")
    target = LiveSystem(make_engine(url), "files", tmp_path / "new" / "blobs")
    try:
        with pytest.raises(RestoreRefused, match="fail verification"):
            restore_whole(backup, target)
        if target.dialect == "sqlite":
            path = tmp_path / "new" / "pbx.sqlite3"
            assert sqlite_is_empty(path) and not list(path.parent.glob(".pbx.sqlite3.*"))
        else:
            assert pg_is_empty(target.engine)
    finally:
        target.engine.dispose()


def test_a_lost_backup_blob_is_named(world: World) -> None:
    backup = _backup(world)
    entry = _entry(backup, "profile_picture")
    os.unlink(backup.blobs.path_for(entry.sha256))
    (problem,) = _verify(world, backup).problems
    assert entry.sha256 in problem and "missing from the backup store" in problem


def test_audio_that_does_not_decode_is_reported(world: World) -> None:
    with world.session() as (session, blobs):
        slot = session.get(MessageSlot, next(iter(world.slots.values())))
        slots.add_version(
            session, blobs, SYSTEM, slot, b"not a wav at all", source="upload", duration_ms=1
        )
    (problem,) = _verify(world, _backup(world)).problems
    assert "audio does not decode" in problem


def test_damaged_entries_file_is_caught_and_restore_refuses(world: World) -> None:
    backup = _backup(world)
    with open(backup.entries_path, "rb+") as fh:
        fh.truncate(os.path.getsize(backup.entries_path) // 2)
    report = _verify(world, backup)
    assert not report.ok and "does not match" in report.problems[0]
    with pytest.raises(ManifestError):
        _restore(world, backup)


def test_damaged_snapshot_is_caught(world: World) -> None:
    backup = _backup(world)
    path = backup.database_path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    report = _verify(world, backup)
    assert not report.database_ok
    assert any("does not match its recorded hash" in p for p in report.problems)


def test_cli_verify_exits_non_zero_and_names_the_blob(world: World) -> None:
    backup = _backup(world)
    entry = _entry(backup, "slot_version")
    flip_byte(backup.blobs.path_for(entry.sha256))
    env = {
        "PBX_DATA_DIR": str(world.settings.data_dir),
        "PBX_DATABASE_URL": world.settings.database_url,
    }
    result = CliRunner().invoke(cli, ["backup", "verify", backup.backup_id], env=env)
    assert result.exit_code == 1
    assert "FAILED" in result.output and entry.sha256 in result.output
