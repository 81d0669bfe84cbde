"""Backup create: consistent, complete, incremental, loud on missing media, read-only on
the live store; on both databases and both media stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from admin_web.cli import cli
from pbx.services.backups.manage import BackupFailed, create_backup, list_backups
from pbx.services.backups.verify import verify_backup
from pbx.services.common.actor import SYSTEM
from pbx.services.library import slots
from storage.backups.manifest import iter_entries
from storage.backups.references import iter_references
from storage.backups.store import BackupStore, BackupStoreError, StoreBusy
from storage.models import AuditEvent, MessageSlot
from tests.integration.backup_world import (
    World,
    corrupt_live_blob,
    delete_blobs,
    live_contents,
    make_world,
)


@pytest.fixture(params=["files", "database"])
def world(request: pytest.FixtureRequest, db_url: str, tmp_path: Path):
    made = make_world(db_url, tmp_path / "data", media_store=request.param)
    yield made
    made.close()


def _live_refs(world: World) -> list:
    with world.session() as (session, _):
        return list(iter_references(session))


def test_backup_lists_every_blob_and_every_reference_and_verifies(world: World) -> None:
    store = world.store()
    manifest = create_backup(world.live(), store)
    backup = store.get(manifest.backup_id)
    entries = list(iter_entries(backup.entries_path))
    refs = _live_refs(world)
    assert [r for e in entries for r in e.refs] == refs
    assert {e.sha256 for e in entries} == {r.sha256 for r in refs}
    assert manifest.counts.blobs == len(entries) and manifest.counts.references == len(refs)
    assert manifest.counts.new_blobs == manifest.counts.blobs
    assert {t["slug"] for t in manifest.tenants} == set(world.tenants)
    for entry in entries:
        assert backup.blobs.get(entry.sha256)  # verified read from the backup store
    report = verify_backup(backup, pg_server_url=world.settings.database_url)
    assert report.ok, report.problems


def test_second_backup_copies_only_what_is_new(world: World) -> None:
    store = world.store()
    first = create_backup(world.live(), store)
    again = create_backup(world.live(), store)
    assert again.counts.new_blobs == 0 and again.counts.blobs == first.counts.blobs
    with world.session() as (session, blobs):
        slot = session.get(MessageSlot, next(iter(world.slots.values())))
        slots.add_version(
            session, blobs, SYSTEM, slot, b"RIFF" + bytes(600), source="upload", duration_ms=1
        )
    third = create_backup(world.live(), store)
    assert third.counts.new_blobs == 1 and third.counts.blobs == first.counts.blobs + 1
    assert [b.backup_id for b in list_backups(store)] == [
        first.backup_id,
        again.backup_id,
        third.backup_id,
    ]


def test_backup_fails_loudly_naming_company_and_slot_when_a_blob_is_missing(
    world: World,
) -> None:
    ref = next(r for r in _live_refs(world) if r.slot_name == "Huvudmeny" and r.current)
    slug = next(s for s, i in world.tenants.items() if i == ref.tenant_id)
    delete_blobs(world, [ref.sha256])
    store = world.store()
    with pytest.raises(BackupFailed) as failed:
        create_backup(world.live(), store)
    message = str(failed.value)
    assert f"company {slug}" in message and f"slot {ref.slot_id} 'Huvudmeny'" in message
    assert ref.sha256[:12] in message and "missing" in message
    assert list_backups(store, include_incomplete=True) == []


def test_backup_fails_on_a_corrupt_live_blob(world: World) -> None:
    ref = next(r for r in _live_refs(world) if r.owner == "voicemail_message")
    corrupt_live_blob(world, ref.sha256)
    with pytest.raises(BackupFailed, match="corrupt.*voicemail message"):
        create_backup(world.live(), world.store())
    assert list_backups(world.store(), include_incomplete=True) == []


def test_backup_never_changes_the_live_store(world: World) -> None:
    before = live_contents(world)
    with world.session() as (session, _):
        events = session.scalar(select(func.count()).select_from(AuditEvent))
    create_backup(world.live(), world.store())
    create_backup(world.live(), world.store(), full=True)
    assert live_contents(world) == before
    with world.session() as (session, _):
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_incomplete_set_is_never_listed_and_is_swept_by_the_next_run(world: World) -> None:
    store = world.store()
    leftover = store.new_set_dir()
    (leftover / "entries.jsonl").write_text('{"blob": "trunc')
    assert list_backups(store) == []
    assert [r.complete for r in list_backups(store, include_incomplete=True)] == [False]
    with pytest.raises(Exception, match="incomplete"):
        store.get(leftover.name)
    manifest = create_backup(world.live(), store)
    assert not leftover.exists()
    assert [b.backup_id for b in list_backups(store, include_incomplete=True)] == [
        manifest.backup_id
    ]


def test_store_overlapping_the_live_blobs_is_refused(world: World) -> None:
    for root in (
        world.settings.blob_dir,
        world.settings.blob_dir / "inside",
        world.settings.data_dir,
    ):
        with pytest.raises(BackupStoreError, match="overlaps"):
            create_backup(world.live(), BackupStore(root))


def test_a_second_writer_is_refused_while_one_runs(world: World) -> None:
    store = world.store()
    with store.lock(exclusive=True), pytest.raises(StoreBusy):
        create_backup(world.live(), store)


def test_cli_create_list_and_verify(world: World, tmp_path: Path) -> None:
    env = {
        "PBX_DATA_DIR": str(world.settings.data_dir),
        "PBX_DATABASE_URL": world.settings.database_url,
        "PBX_MEDIA_STORE": world.settings.media_store,
    }
    runner = CliRunner()
    other = tmp_path / "elsewhere"
    made = runner.invoke(cli, ["backup", "create", "--to", str(other), "--json"], env=env)
    assert made.exit_code == 0, made.output
    backup_id = json.loads(made.output)["backup_id"]
    listed = runner.invoke(cli, ["backup", "list", "--store", str(other), "--json"], env=env)
    assert [row["backup_id"] for row in json.loads(listed.output)] == [backup_id]
    set_path = str(other / "sets" / backup_id)
    checked = runner.invoke(cli, ["backup", "verify", set_path], env=env)
    assert checked.exit_code == 0 and "verified" in checked.output, checked.output
    ref = next(r for r in _live_refs(world) if r.owner == "profile_picture")
    delete_blobs(world, [ref.sha256])
    failed = runner.invoke(cli, ["backup", "create"], env=env)
    assert failed.exit_code == 1
    assert failed.output.startswith("Error: backup failed") and failed.output.count("\n") == 1
