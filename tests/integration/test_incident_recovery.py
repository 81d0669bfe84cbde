"""After media loss (both databases, real files and real espeak-ng): the recovery dashboard
counts what was restored, regenerated, re-recorded and is still missing; admins are told
what to re-record; the lost-voicemail call-back list names caller and time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import PermissionDenied
from pbx.incident import callbacks, recovery, rerecord
from pbx.media.pictures import draw_avatar
from pbx.media.tts import EspeakEngine
from pbx.media.wav import tone
from pbx.services.common.actor import SYSTEM, Actor
from pbx.services.library import bulk_tts as library_bulk
from pbx.services.library import slots
from pbx.services.people import pictures
from pbx.services.people import voicemail as vm
from storage.blobs import FileBlobStore
from storage.models import OutboxMessage, Tenant, User, utcnow
from tests.builders import make_tenant, make_user

CALLER = "+46709876543"
RECEIVED = datetime(2026, 4, 26, 13, 30, tzinfo=UTC)


@dataclass
class Company:
    tenant: Tenant
    admin: User
    anna: User
    bo: User
    slots: dict[str, int]
    audio: dict[str, bytes]


def slot(
    session: Session,
    blobs: FileBlobStore,
    tenant: Tenant,
    kind: str,
    name: str,
    script: str,
    seed: int,
) -> tuple[int, bytes]:
    made = slots.create_slot(session, SYSTEM, tenant, kind=kind, name=name, script_text=script)
    audio = tone(400 + seed, 300)
    slots.add_version(session, blobs, SYSTEM, made, audio, source="upload", duration_ms=300)
    return made.id, audio


@pytest.fixture
def company(session: Session, file_blobs: FileBlobStore) -> Company:
    tenant = make_tenant(session)
    admin = make_user(session, tenant, role="company_admin")
    anna, bo = make_user(session, tenant), make_user(session, tenant)
    ids, audio = {}, {}
    for kind, name, script, seed in (
        ("welcome", "Välkommen", "Välkommen till oss.", 1),
        ("ivr", "Huvudmeny", "Tryck 1 för försäljning.", 2),
        ("queue", "Kömeddelande", "", 3),
    ):
        ids[kind], audio[kind] = slot(session, file_blobs, tenant, kind, name, script, seed)
    greeting = vm.greeting_slot(session, SYSTEM, anna)
    slots.add_version(
        session, file_blobs, SYSTEM, greeting, tone(900, 300), source="phone", duration_ms=300
    )
    ids["greeting"] = greeting.id
    avatar = draw_avatar(anna.name, seed=1)
    pictures.set_picture(session, file_blobs, SYSTEM, anna, avatar.data, avatar.content_type)
    vm.deposit(
        session,
        file_blobs,
        vm.box_of(session, bo),
        caller=CALLER,
        received_at=RECEIVED,
        master_wav=tone(700, 400),
        duration_ms=4000,
    )
    return Company(tenant, admin, anna, bo, ids, audio)


def lose_everything(blobs: FileBlobStore) -> None:
    """The backup fault: every blob body is gone, every row still points at it."""
    for sha in list(blobs.iter_ids()):
        os.unlink(blobs.path_for(sha))


def test_dashboard_counts_each_way_back_and_what_is_still_missing(
    session: Session, file_blobs: FileBlobStore, company: Company
) -> None:
    lose_everything(file_blobs)
    base = recovery.baseline(session, file_blobs, company.tenant)
    kinds = sorted(i["kind"] for i in base["items"])
    assert kinds == ["greeting", "ivr", "picture", "queue", "voicemail", "welcome"]
    since = utcnow()
    file_blobs.put(company.audio["welcome"])  # restored from a backup: the same bytes back
    done = library_bulk.regenerate_missing(
        session, file_blobs, EspeakEngine(), SYSTEM, tenant_id=company.tenant.id
    )
    assert [r.kind for r in done.regenerated] == ["ivr"]
    assert sorted(r.kind for r in done.needs_recording) == ["greeting", "queue"]
    greeting = session.get(slots.MessageSlot, company.slots["greeting"])
    anna = Actor(company.anna.id, "anna", "user", company.tenant.id)
    slots.add_version(
        session, file_blobs, anna, greeting, tone(950, 300), source="phone", duration_ms=300
    )

    board = recovery.dashboard(session, file_blobs, company.tenant, since, base["items"])
    table = {
        r.kind: (r.lost, r.restored, r.regenerated, r.rerecorded, r.missing) for r in board.rows
    }
    assert table == {
        "welcome": (1, 1, 0, 0, 0),
        "ivr": (1, 0, 1, 0, 0),
        "queue": (1, 0, 0, 0, 1),
        "hold": (0, 0, 0, 0, 0),  # messages on hold are counted too (none lost here)
        "greeting": (1, 0, 0, 1, 0),
        "other": (0, 0, 0, 0, 0),
        "voicemail": (1, 0, 0, 0, 1),
        "picture": (1, 0, 0, 0, 1),
    }
    total = board.total
    assert (total.lost, total.missing) == (6, 3)


def test_without_a_baseline_what_is_missing_now_and_what_was_remade_is_shown(
    session: Session, file_blobs: FileBlobStore, company: Company
) -> None:
    lose_everything(file_blobs)
    since = utcnow() - timedelta(seconds=1)
    library_bulk.regenerate_missing(
        session, file_blobs, EspeakEngine(), SYSTEM, tenant_id=company.tenant.id
    )
    board = recovery.dashboard(session, file_blobs, company.tenant, since)
    table = {r.kind: (r.lost, r.regenerated, r.missing) for r in board.rows if r.lost}
    assert table["welcome"] == (1, 1, 0) and table["ivr"] == (1, 1, 0)
    assert table["queue"] == (1, 0, 1) and not board.from_baseline


def test_admins_are_told_what_to_re_record_in_the_notices_steps(
    session: Session, file_blobs: FileBlobStore, company: Company
) -> None:
    lose_everything(file_blobs)
    base = recovery.baseline(session, file_blobs, company.tenant)
    board = recovery.dashboard(session, file_blobs, company.tenant, utcnow(), base["items"])
    assert rerecord.notify_admins(session, SYSTEM, company.tenant, board) == 1
    (message,) = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == rerecord.KIND))
    assert message.to_address == company.admin.email
    assert "Kömeddelande" in message.body and "Ta inte bort något meddelande" in message.body
    assert "Ring 333" in message.body and company.anna.name in message.body
    assert "1 mottagna röstmeddelanden" in message.body


def test_call_back_list_names_caller_and_time_for_the_right_people(
    session: Session, file_blobs: FileBlobStore, company: Company
) -> None:
    admin = Actor(company.admin.id, "admin", "company_admin", company.tenant.id)
    assert callbacks.lost_voicemail(session, file_blobs, admin, company.tenant) == []
    lose_everything(file_blobs)
    (row,) = callbacks.lost_voicemail(session, file_blobs, admin, company.tenant)
    assert (row.user_id, row.caller, row.received_at, row.seconds) == (
        company.bo.id,
        CALLER,
        RECEIVED,
        4,
    )
    bo = Actor(company.bo.id, "bo", "user", company.tenant.id)
    anna = Actor(company.anna.id, "anna", "user", company.tenant.id)
    assert len(callbacks.lost_voicemail(session, file_blobs, bo, company.tenant)) == 1
    assert callbacks.lost_voicemail(session, file_blobs, anna, company.tenant) == []
    with pytest.raises(PermissionDenied):
        callbacks.lost_voicemail(session, file_blobs, anna, company.tenant, user_id=company.bo.id)
    stranger = Actor(None, "other", "company_admin", company.tenant.id + 1000)
    with pytest.raises(PermissionDenied):
        callbacks.lost_voicemail(session, file_blobs, stranger, company.tenant)
    text = callbacks.export(session, file_blobs, admin, company.tenant)
    assert text.splitlines() == [
        "user,extension,caller,received,seconds,heard",
        f"{company.bo.name},{company.bo.extension},{CALLER},2026-04-26 15:30,4,no",
    ]
