"""A small live switchboard for the backup tests: real database (SQLite or PostgreSQL), real
blob store (files or the `blobs` table), companies built through the services.

Each company has every kind of media a backup must keep: a welcome message with an older
version and an original upload, IVR prompts, a personal greeting, a received voicemail
message and a profile picture with its original.
"""

from __future__ import annotations

import hashlib
import os
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from admin_web.runtime import Runtime
from pbx.config import Settings
from pbx.media.pictures import draw_avatar
from pbx.media.wav import tone
from pbx.services.backups.manage import LiveSystem
from pbx.services.common.actor import SYSTEM
from pbx.services.library import slots
from pbx.services.people import pictures
from pbx.services.people import voicemail as vm
from pbx.services.routing import ivr, numbers
from pbx.services.routing.targets import Target
from storage.backups.store import BackupStore
from storage.blobs import BlobStore, FileBlobStore
from storage.models import StoredBlob
from tests.builders import make_tenant, make_user
from tests.databases import pg_url


@dataclass
class World:
    settings: Settings
    runtime: Runtime
    tenants: dict[str, int] = field(default_factory=dict)
    slots: dict[str, int] = field(default_factory=dict)  # "<slug>/<name>" → slot id

    @property
    def in_database(self) -> bool:
        return self.settings.media_store == "database"

    def live(self) -> LiveSystem:
        return LiveSystem(self.runtime.engine, self.settings.media_store, self.settings.blob_dir)

    def store(self) -> BackupStore:
        return BackupStore.open(self.settings.backup_dir, live_blob_dir=self.settings.blob_dir)

    @contextmanager
    def session(self) -> Iterator[tuple[Session, BlobStore]]:
        with self.runtime.unit_of_work() as session:
            yield session, self.runtime.blobs(session)

    def close(self) -> None:
        self.runtime.close()


def make_world(
    db_url: str, data_dir: Path, *, media_store: str = "files", companies: int = 2, extra: int = 0
) -> World:
    settings = Settings(
        mode="test",
        data_dir=data_dir,
        database_url=db_url,
        media_store=media_store,
        backup_dir=data_dir / "backups",
    )
    world = World(settings, Runtime.build(settings))
    for n in range(companies):
        with world.session() as (session, blobs):
            _company(world, session, blobs, n, extra)
    return world


def _wav(seed: int) -> bytes:
    """A short tone, different for every seed (frequency and length both vary)."""
    return tone(300 + seed % 1500, 200 + (seed // 1500) % 200)


def _company(world: World, session: Session, blobs: BlobStore, n: int, extra: int) -> None:
    tenant = make_tenant(session)
    world.tenants[tenant.slug] = tenant.id
    reception, staff = make_user(session, tenant), make_user(session, tenant)

    def slot(kind: str, name: str, versions: int = 1, original: bool = False) -> int:
        made = slots.create_slot(session, SYSTEM, tenant, kind=kind, name=name)
        for v in range(versions):
            audio = _wav(zlib.crc32(f"{tenant.slug}/{name}/{v}".encode()))
            upload = b"ORIGINAL-UPLOAD " + audio if original else None
            slots.add_version(
                session,
                blobs,
                SYSTEM,
                made,
                audio,
                source="upload",
                duration_ms=300,
                original=upload,
            )
        world.slots[f"{tenant.slug}/{name}"] = made.id
        return made.id

    welcome = slot("welcome", "Välkommen", versions=2, original=True)
    prompt, invalid = slot("ivr", "Huvudmeny"), slot("ivr", "Ogiltigt val")
    for i in range(extra):
        slot("other", f"Extra {i}")
    menu = ivr.create_menu(
        session, SYSTEM, tenant, name="Huvudmeny", prompt_slot_id=prompt, invalid_slot_id=invalid
    )
    ivr.set_option(session, SYSTEM, tenant, menu, "1", Target("user", user_id=reception.id))
    ivr.set_option(session, SYSTEM, tenant, menu, "2", Target("voicemail", user_id=staff.id))
    numbers.add_number(
        session,
        SYSTEM,
        tenant,
        f"+468600{n:04d}",
        Target("ivr", ivr_id=menu.id),
        label="Växel",
        welcome_slot_id=welcome,
    )
    greeting = vm.greeting_slot(session, SYSTEM, reception)
    slots.add_version(
        session, blobs, SYSTEM, greeting, _wav(n + 5000), source="phone", duration_ms=300
    )
    world.slots[f"{tenant.slug}/greeting"] = greeting.id
    vm.deposit(
        session,
        blobs,
        vm.box_of(session, staff),
        caller="+46701234567",
        received_at=datetime(2026, 4, 26, 15, 0, tzinfo=UTC),
        master_wav=_wav(n + 9000),
        duration_ms=300,
    )
    avatar = draw_avatar(reception.name, seed=n)
    pictures.set_picture(
        session,
        blobs,
        SYSTEM,
        reception,
        avatar.data,
        avatar.content_type,
        original=b"PNG-ORIGINAL" + avatar.data,
    )


# --- the live store, whichever kind -------------------------------------------------------


def live_contents(world: World) -> dict[str, str]:
    """Every live blob id → the SHA-256 of the bytes actually stored under it."""
    if world.in_database:
        with world.session() as (session, _):
            rows = session.execute(select(StoredBlob.sha256, StoredBlob.data))
            return {sha: hashlib.sha256(bytes(data)).hexdigest() for sha, data in rows}
    store = FileBlobStore(world.settings.blob_dir)
    return {
        sha: hashlib.sha256(store.path_for(sha).read_bytes()).hexdigest()
        for sha in store.iter_ids()
    }


def live_bytes(world: World, sha: str) -> bytes:
    with world.session() as (_, blobs):
        return blobs.get(sha)


def delete_blobs(world: World, shas: list[str]) -> None:
    """The incident: media bodies vanish while every row still points at them."""
    if world.in_database:
        with world.session() as (session, _):
            session.execute(delete(StoredBlob).where(StoredBlob.sha256.in_(shas)))
        return
    store = FileBlobStore(world.settings.blob_dir)
    for sha in shas:
        os.unlink(store.path_for(sha))


def corrupt_live_blob(world: World, sha: str) -> None:
    if world.in_database:
        with world.session() as (session, _):
            row = session.get(StoredBlob, sha)
            assert row is not None
            data = bytearray(row.data)
            data[len(data) // 2] ^= 0xFF
            session.execute(
                update(StoredBlob).where(StoredBlob.sha256 == sha).values(data=bytes(data))
            )
        return
    flip_byte(FileBlobStore(world.settings.blob_dir).path_for(sha))


def flip_byte(path: Path) -> None:
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    os.chmod(path, 0o444)


def empty_database(request: pytest.FixtureRequest, world: World, where: Path) -> str:
    """The URL of a new, empty database of the world's kind (dropped after the test)."""
    if world.live().dialect == "sqlite":
        return f"sqlite:///{where / 'pbx.sqlite3'}"
    dbs = request.getfixturevalue("_pg_dbs")
    name = f"pbx_t_empty_{uuid.uuid4().hex[:12]}"
    dbs._create(name)  # no template of ours: no tables at all
    request.addfinalizer(lambda: dbs.drop(pg_url(name)))
    return pg_url(name)


# --- children for fault injection (run in their own process group, killed with SIGKILL) ----


def child_create(settings: Settings, started: Any) -> None:
    from pbx.services.backups.manage import create_backup

    os.setsid()  # the test kills the whole group: this process and any pg_dump it runs
    runtime = Runtime.build(settings)
    live = LiveSystem(runtime.engine, settings.media_store, settings.blob_dir)
    store = BackupStore.open(settings.backup_dir, live_blob_dir=settings.blob_dir)
    started.set()
    create_backup(live, store)


def child_restore(settings: Settings, backup_path: str, mode: str, started: Any) -> None:
    """mode: "missing" (all companies, missing only), "tenant:<id>", or "whole" (into the
    empty database and blob directory that `settings` name)."""
    from pbx.services.backups.restore import Selection, restore_media
    from pbx.services.backups.restore_whole import restore_whole
    from pbx.services.common.actor import cli_actor
    from storage.backups.store import resolve_backup

    os.setsid()
    runtime = Runtime.build(settings)
    backup = resolve_backup(backup_path, settings.backup_dir)
    started.set()
    if mode == "whole":
        live = LiveSystem(runtime.engine, settings.media_store, settings.blob_dir)
        restore_whole(backup, live)
        return
    selection = Selection(int(mode.split(":")[1])) if mode.startswith("tenant:") else Selection()
    with runtime.unit_of_work() as session:
        restore_media(
            session,
            runtime.blobs(session),
            cli_actor(),
            backup,
            selection,
            missing_only=mode == "missing",
        )
