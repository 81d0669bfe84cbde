"""Restore: the incident-2 remedy (--missing-only, byte-identical), per company and per
slot (new "restore" versions, rollback possible), whole into an empty database; nothing
live is ever deleted. Both databases, both media stores."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.services.backups.manage import LiveSystem, create_backup
from pbx.services.backups.restore import RestoreRefused, Selection, restore_media
from pbx.services.backups.restore_whole import restore_whole
from pbx.services.calls import drill as call_drill
from pbx.services.common.actor import SYSTEM, cli_actor
from pbx.services.library import slots
from pbx.services.library.scan import scan_media
from storage.backups.references import iter_references
from storage.backups.store import BackupSet
from storage.blobs import FileBlobStore, SqlBlobStore
from storage.db import make_engine
from storage.models import AuditEvent, MediaVersion, MessageSlot
from tests.integration.backup_world import (
    World,
    corrupt_live_blob,
    delete_blobs,
    empty_database,
    live_bytes,
    live_contents,
    make_world,
)


@pytest.fixture(params=["files", "database"])
def world(request: pytest.FixtureRequest, db_url: str, tmp_path: Path):
    made = make_world(db_url, tmp_path / "data", media_store=request.param)
    yield made
    made.close()


def _backup(world: World) -> BackupSet:
    store = world.store()
    return store.get(create_backup(world.live(), store).backup_id)


def _restore(world: World, backup: BackupSet, selection: Selection | None = None, **kw):
    with world.session() as (session, blobs):
        return restore_media(session, blobs, cli_actor(), backup, selection or Selection(), **kw)


def _scan(world: World):
    with world.session() as (session, blobs):
        return scan_media(session, blobs)


def test_incident_sequence_restores_exactly_the_lost_blobs_byte_identical(world: World) -> None:
    backup = _backup(world)
    before = live_contents(world)
    lost = random.Random(2).sample(sorted(before), 5)
    originals = {sha: live_bytes(world, sha) for sha in lost}
    delete_blobs(world, lost)
    assert {p.sha256 for p in _scan(world).problems} == set(lost)
    report = _restore(world, backup, missing_only=True)
    assert report.ok and report.blobs_restored == 5 and report.versions_added == []
    assert live_contents(world) == before
    for sha, data in originals.items():
        assert live_bytes(world, sha) == data
    assert _scan(world).ok
    with world.session() as (session, blobs):  # and the test calls play every message
        for tenant_id in world.tenants.values():
            calls = call_drill.test_call_every_path(session, blobs, tenant_id)
            assert calls.ok and len(calls.paths) == 3, calls.as_dict()
    with world.session() as (session, _):
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event.action == "backup.restore" and event.new["blobs_restored"] == 5


def test_missing_only_repairs_a_corrupt_live_copy(world: World) -> None:
    backup = _backup(world)
    sha = next(iter(live_contents(world)))
    good = live_bytes(world, sha)
    corrupt_live_blob(world, sha)
    report = _restore(world, backup, missing_only=True)
    assert report.blobs_restored == 1
    assert live_bytes(world, sha) == good


def test_restore_never_deletes_what_came_after_the_backup(world: World) -> None:
    backup = _backup(world)
    slot_id = world.slots[next(k for k in world.slots if k.endswith("/Huvudmeny"))]
    with world.session() as (session, blobs):
        slot = session.get(MessageSlot, slot_id)
        newer = slots.add_version(
            session, blobs, SYSTEM, slot, b"RIFF-new" + bytes(400), source="upload", duration_ms=5
        )
    before = live_contents(world)
    _restore(world, backup, missing_only=True)
    _restore(world, backup, Selection(slot_id=slot_id))
    after = live_contents(world)
    assert {sha: after[sha] for sha in before} == before
    with world.session() as (session, _):
        assert session.get(MediaVersion, newer.id) is not None


def test_company_restore_adds_restore_versions_that_can_be_rolled_back(world: World) -> None:
    backup = _backup(world)
    slug, other = list(world.tenants)
    slot_id = world.slots[f"{slug}/Välkommen"]
    with world.session() as (session, blobs):
        slot = session.get(MessageSlot, slot_id)
        backed_up = slots.current_version(session, slot).blob_sha256
        rerecorded = slots.add_version(
            session,
            blobs,
            SYSTEM,
            slot,
            b"RIFF-rerecorded" + bytes(99),
            source="phone",
            duration_ms=9,
        )
    report = _restore(world, backup, Selection(tenant_id=world.tenants[slug]))
    assert [v["slot_id"] for v in report.versions_added] == [slot_id]
    assert report.slots_unchanged == 3 and report.ok
    with world.session() as (session, _):
        slot = session.get(MessageSlot, slot_id)
        current = slots.current_version(session, slot)
        assert (current.source, current.blob_sha256) == ("restore", backed_up)
        kept = session.scalars(select(MediaVersion.id).where(MediaVersion.slot_id == slot_id))
        assert rerecorded.id in list(kept)  # the rollback target is still there
        other_versions = session.scalars(
            select(MediaVersion.source)
            .join(MessageSlot, MessageSlot.id == MediaVersion.slot_id)
            .where(MessageSlot.tenant_id == world.tenants[other])
        )
        assert "restore" not in set(other_versions)


def test_slot_restore_brings_back_a_lost_current_recording(world: World) -> None:
    backup = _backup(world)
    slot_id = world.slots[next(k for k in world.slots if k.endswith("/greeting"))]
    with world.session() as (session, _):
        sha = slots.current_version(session, session.get(MessageSlot, slot_id)).blob_sha256
    delete_blobs(world, [sha])
    report = _restore(world, backup, Selection(slot_id=slot_id))
    assert report.blobs_restored == 1 and report.slots_unchanged == 1
    assert _scan(world).ok
    with pytest.raises(RestoreRefused, match="no audio for slot 99999"):
        _restore(world, backup, Selection(slot_id=99999))


def _target(tmp_path: Path, url: str, media_store: str) -> LiveSystem:
    return LiveSystem(make_engine(url), media_store, tmp_path / "restored" / "blobs")


def _scan_target(target: LiveSystem):
    with Session(target.engine) as session:
        store = (
            SqlBlobStore(session)
            if target.media_store == "database"
            else FileBlobStore(target.blob_dir)
        )
        return scan_media(session, store), list(iter_references(session))


@pytest.mark.parametrize("target_store", ["files", "database"])
def test_whole_restore_into_an_empty_database(
    world: World, request: pytest.FixtureRequest, tmp_path: Path, target_store: str
) -> None:
    backup = _backup(world)
    url = empty_database(request, world, tmp_path / "restored")
    target = _target(tmp_path, url, target_store)
    try:
        report = restore_whole(backup, target)
        assert report.ok and report.blobs_restored == backup.manifest.counts.blobs
        scan, refs = _scan_target(target)
        assert scan.ok and scan.references == backup.manifest.counts.references
        with world.session() as (session, _):
            assert refs == list(iter_references(session))
        with pytest.raises(RestoreRefused, match="not empty"):
            restore_whole(backup, target)  # finished: a second run is refused
    finally:
        target.engine.dispose()


def test_whole_restore_refuses_a_live_database(world: World) -> None:
    backup = _backup(world)
    before = live_contents(world)
    with pytest.raises(RestoreRefused, match="not empty"):
        restore_whole(backup, world.live())
    assert live_contents(world) == before
