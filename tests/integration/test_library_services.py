"""The message library's services on SQLite and PostgreSQL, real ffmpeg and real espeak-ng:
rows and red crosses, uploads, text-to-speech, versions and rollback, guarded delete."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import Conflict, NotFound, PermissionDenied
from pbx.media import errors as media_errors
from pbx.media.audio import duration_ms
from pbx.services.common.actor import SYSTEM, Actor
from pbx.services.library import messages as library
from pbx.services.routing import numbers
from pbx.services.routing.targets import Target
from storage.blobs import FileBlobStore
from storage.models import AuditEvent, MediaVersion, MessageSlot, Tenant, utcnow
from tests.builders import make_tenant, make_user
from tests.library_media import FORMATS, encode, offline_tts, silent_wav, speech_wav


def admin_of(session: Session, tenant: Tenant) -> Actor:
    user = make_user(session, tenant, role="company_admin")
    return Actor(user.id, user.email, "company_admin", tenant.id)


def place_on_number(session: Session, tenant: Tenant, slot: MessageSlot, e164: str) -> None:
    user = make_user(session, tenant)
    target = Target("user", user_id=user.id)
    numbers.add_number(session, SYSTEM, tenant, e164, target, welcome_slot_id=slot.id)


def lose(blobs: FileBlobStore, sha: str) -> None:
    blobs.path_for(sha).unlink()


def corrupt(blobs: FileBlobStore, sha: str) -> None:
    path = blobs.path_for(sha)
    os.chmod(path, 0o644)
    path.write_bytes(b"not the audio that was stored")


@pytest.fixture
def tenant(session: Session) -> Tenant:
    return make_tenant(session)


@pytest.fixture
def admin(session: Session, tenant: Tenant) -> Actor:
    return admin_of(session, tenant)


@pytest.fixture
def slot(session: Session, tenant: Tenant, admin: Actor) -> MessageSlot:
    return library.create_message(
        session, admin, tenant, kind="welcome", name="Välkommen", script_text="Välkommen!"
    )


def test_rows_show_kind_placement_version_and_a_red_cross_for_lost_audio(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant, admin: Actor, slot: MessageSlot
) -> None:
    place_on_number(session, tenant, slot, "+46852001234")
    library.save_audio(session, file_blobs, admin, slot, speech_wav())
    lost = library.create_message(session, admin, tenant, kind="ivr", name="Knappval")
    version = library.save_audio(session, file_blobs, admin, lost, speech_wav(seed=2))
    broken = library.create_message(session, admin, tenant, kind="queue", name="Kö")
    broken_version = library.save_audio(session, file_blobs, admin, broken, speech_wav(seed=3))
    never = library.create_message(session, admin, tenant, kind="other", name="Stängt")
    lose(file_blobs, version.blob_sha256)
    corrupt(file_blobs, broken_version.blob_sha256)

    shown = library.library(session, file_blobs, tenant.id)

    by_name = {row.slot.name: row for row in shown.rows}
    assert (shown.total, shown.missing) == (4, 3)
    assert by_name["Välkommen"].status == "ok"
    assert [p.label for p in by_name["Välkommen"].placements] == ["+46852001234"]
    assert by_name["Välkommen"].version is not None
    assert by_name["Välkommen"].version.source == "upload"
    assert by_name["Knappval"].status == "missing"
    assert by_name["Kö"].status == "corrupt"
    assert by_name["Stängt"].status == "missing" and by_name["Stängt"].version is None
    only = library.library(session, file_blobs, tenant.id, missing_only=True)
    assert sorted(r.slot.id for r in only.rows) == sorted([lost.id, broken.id, never.id])
    assert only.missing == 3


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_upload_in_any_format_becomes_a_new_version_with_the_original_kept(
    session: Session, file_blobs: FileBlobStore, admin: Actor, slot: MessageSlot, fmt: str
) -> None:
    upload = encode(speech_wav(2.0), fmt)

    version = library.save_audio(session, file_blobs, admin, slot, upload)

    assert slot.current_version_id == version.id
    assert version.source == "upload" and version.original_sha256 is not None
    assert file_blobs.get(version.original_sha256) == upload
    master = file_blobs.get(version.blob_sha256)
    assert abs(duration_ms(master) - 2200) < 250
    assert version.duration_ms == duration_ms(master)


BAD_UPLOADS = {
    "empty": (b"", media_errors.AudioEmpty),
    "undecodable": (b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(400), media_errors.AudioError),
    "text": (b"hello, this is not audio at all " * 20, media_errors.AudioUnsupportedFormat),
    "silent": (None, media_errors.AudioSilent),
    "too long": (None, media_errors.AudioTooLong),
    "too large": (b"\xff\xfb" + b"\0" * 2_000_000, media_errors.AudioTooLarge),
}


@pytest.mark.parametrize("case", BAD_UPLOADS)
def test_a_bad_upload_is_refused_and_nothing_changes(
    session: Session, file_blobs: FileBlobStore, admin: Actor, slot: MessageSlot, case: str
) -> None:
    good = library.save_audio(session, file_blobs, admin, slot, speech_wav())
    data, error = BAD_UPLOADS[case]
    if case == "silent":
        data = silent_wav()
    if case == "too long":
        data = speech_wav(6.0)
    limits = library.MediaLimits(max_upload_bytes=1_500_000, max_seconds=4)
    assert data is not None
    blobs_before = set(file_blobs.iter_ids())

    with pytest.raises(error):
        library.save_audio(session, file_blobs, admin, slot, data, limits=limits)

    assert slot.current_version_id == good.id
    count = session.scalar(select(MediaVersion.id).where(MediaVersion.slot_id == slot.id))
    assert count == good.id
    assert set(file_blobs.iter_ids()) == blobs_before


def test_text_to_speech_falls_back_offline_and_records_the_engine(
    session: Session, file_blobs: FileBlobStore, admin: Actor, slot: MessageSlot
) -> None:
    text = "Välkommen till Testbolaget. Tryck ett för växeln."

    version = library.save_tts(session, file_blobs, offline_tts(), admin, slot, text, "sv")

    assert (version.source, version.engine) == ("tts", "espeak")
    assert slot.script_text == text and slot.current_version_id == version.id
    assert duration_ms(file_blobs.get(version.blob_sha256)) > 1500


def test_rollback_moves_the_pointer_is_audited_and_keeps_every_version(
    session: Session, file_blobs: FileBlobStore, admin: Actor, slot: MessageSlot
) -> None:
    first = library.save_audio(session, file_blobs, admin, slot, speech_wav(seed=1))
    second = library.save_audio(session, file_blobs, admin, slot, speech_wav(seed=2))

    library.restore_version(session, file_blobs, admin, slot, first.id)

    assert slot.current_version_id == first.id
    rows = library.versions(session, file_blobs, slot)
    assert [(r.version.id, r.current) for r in rows] == [(second.id, False), (first.id, True)]
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.action == "slot.rollback"
    # the number in the message (what people know it by) beside the database id
    assert (event.old, event.new) == (
        {"version_id": second.id, "version": 2},
        {"version_id": first.id, "version": 1},
    )


def test_rollback_refuses_lost_audio_and_other_slots_versions(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant, admin: Actor, slot: MessageSlot
) -> None:
    first = library.save_audio(session, file_blobs, admin, slot, speech_wav(seed=1))
    second = library.save_audio(session, file_blobs, admin, slot, speech_wav(seed=2))
    other = library.create_message(session, admin, tenant, kind="other", name="Annat")
    foreign = library.save_audio(session, file_blobs, admin, other, speech_wav(seed=3))
    lose(file_blobs, first.blob_sha256)

    with pytest.raises(Conflict):
        library.restore_version(session, file_blobs, admin, slot, first.id)
    with pytest.raises(NotFound):
        library.restore_version(session, file_blobs, admin, slot, foreign.id)
    assert slot.current_version_id == second.id


def test_a_placed_message_cannot_be_deleted_and_says_where_it_is_used(
    session: Session, tenant: Tenant, admin: Actor, slot: MessageSlot
) -> None:
    place_on_number(session, tenant, slot, "+46852001235")

    with pytest.raises(library.MessageInUse) as refused:
        library.delete_message(session, admin, slot)

    assert [p.kind for p in refused.value.placements] == ["number"]
    assert slot.deleted_at is None


def test_delete_is_soft_and_undone_within_30_days_only(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant, admin: Actor, slot: MessageSlot
) -> None:
    library.delete_message(session, admin, slot)

    assert slot.id not in [r.slot.id for r in library.library(session, file_blobs, tenant.id).rows]
    assert library.deleted_messages(session, tenant.id) == [slot]
    library.undo_delete(session, admin, slot)
    assert slot.deleted_at is None

    old = library.create_message(session, admin, tenant, kind="other", name="Gammal")
    library.delete_message(session, admin, old, now=utcnow() - timedelta(days=31))
    assert old not in library.deleted_messages(session, tenant.id)
    with pytest.raises(Conflict):
        library.undo_delete(session, admin, old)


def test_only_the_companys_admins_edit_its_library(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant, slot: MessageSlot
) -> None:
    user = make_user(session, tenant)
    plain = Actor(user.id, user.email, "user", tenant.id)
    rival = admin_of(session, make_tenant(session))

    for actor in (plain, rival):
        with pytest.raises(PermissionDenied):
            library.save_audio(session, file_blobs, actor, slot, speech_wav())
        with pytest.raises(PermissionDenied):
            library.delete_message(session, actor, slot)
    assert slot.current_version_id is None


def test_the_company_quota_refuses_more_audio(
    session: Session, file_blobs: FileBlobStore, admin: Actor, slot: MessageSlot
) -> None:
    limits = library.MediaLimits(tenant_max_versions=1)
    library.save_audio(session, file_blobs, admin, slot, speech_wav(), limits=limits)

    with pytest.raises(library.QuotaExceeded):
        library.save_audio(session, file_blobs, admin, slot, speech_wav(seed=2), limits=limits)


def test_rename_language_and_script_are_audited(
    session: Session, admin: Actor, slot: MessageSlot
) -> None:
    library.update_message(
        session, admin, slot, name="Välkommen (ny)", language="en", script_text="Welcome!"
    )

    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.action == "slot.update"
    assert event.new == {"language": "en", "name": "Välkommen (ny)", "script_text": "Welcome!"}
