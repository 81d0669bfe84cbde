"""Recovery after media loss on SQLite and PostgreSQL: bulk text-to-speech of missing
messages, personal greetings, received voicemail whose audio is gone, profile pictures, and
media served only to the owning company (hash checked before sending)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from pbx.errors import NotFound, PermissionDenied
from pbx.media import errors as media_errors
from pbx.services.common.actor import SYSTEM, Actor
from pbx.services.library import bulk_tts as library_bulk
from pbx.services.library import files as media_files
from pbx.services.library import messages as library
from pbx.services.people import greetings, profile_pictures, voicemail
from storage.backups.references import iter_references
from storage.blobs import FileBlobStore, SqlBlobStore
from storage.models import Tenant, User
from tests.builders import make_tenant, make_user
from tests.integration.test_library_services import admin_of, corrupt, lose
from tests.library_media import offline_tts, picture_bytes, speech_wav


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.email, user.role, user.tenant_id)


@pytest.fixture
def tenant(session: Session) -> Tenant:
    return make_tenant(session)


@pytest.fixture
def admin(session: Session, tenant: Tenant) -> Actor:
    return admin_of(session, tenant)


def lost_messages(
    session: Session, blobs: FileBlobStore, tenant: Tenant, admin: Actor, scripts: list[str]
) -> list[int]:
    made = []
    for n, script in enumerate(scripts):
        slot = library.create_message(
            session, admin, tenant, kind="ivr", name=f"Meddelande {n}", script_text=script
        )
        version = library.save_audio(session, blobs, admin, slot, speech_wav(seed=n))
        lose(blobs, version.blob_sha256)
        made.append(slot.id)
    return made


def test_bulk_regeneration_brings_back_scripted_messages_and_lists_the_rest(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant, admin: Actor
) -> None:
    ids = lost_messages(session, file_blobs, tenant, admin, ["Välkommen.", "Tryck ett.", ""])
    assert library.library(session, file_blobs, tenant.id).missing == 3

    result = library_bulk.regenerate_missing(
        session, file_blobs, offline_tts(), admin, tenant_id=tenant.id
    )

    assert [r.slot_id for r in result.regenerated] == ids[:2]
    assert {r.engine for r in result.regenerated} == {"espeak"}
    assert [r.slot_id for r in result.needs_recording] == ids[2:]
    assert (result.failed, result.remaining) == ([], 0)
    after = library.library(session, file_blobs, tenant.id, missing_only=True)
    assert [row.slot.id for row in after.rows] == ids[2:]
    versions = library.versions(session, file_blobs, after.rows[0].slot)
    assert len(versions) == 1  # nothing was added where there was no script


def test_bulk_regeneration_works_in_batches_and_all_companies_is_for_operators(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant, admin: Actor
) -> None:
    lost_messages(session, file_blobs, tenant, admin, ["Ett.", "Två.", "Tre."])
    other = make_tenant(session)
    lost_messages(session, file_blobs, other, admin_of(session, other), ["Fyra."])

    first = library_bulk.regenerate_missing(
        session, file_blobs, offline_tts(), admin, tenant_id=tenant.id, limit=2
    )
    assert (len(first.regenerated), first.remaining) == (2, 1)
    with pytest.raises(PermissionDenied):
        library_bulk.regenerate_missing(session, file_blobs, offline_tts(), admin)
    every = library_bulk.regenerate_missing(session, file_blobs, offline_tts(), SYSTEM)
    assert sorted(r.tenant_slug for r in every.regenerated) == sorted([tenant.slug, other.slug])


def test_a_message_that_cannot_be_synthesised_is_reported_and_the_others_are_kept(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant, admin: Actor
) -> None:
    ids = lost_messages(session, file_blobs, tenant, admin, ["Hej.", "..."])

    result = library_bulk.regenerate_missing(
        session, file_blobs, offline_tts(), admin, tenant_id=tenant.id
    )

    assert [r.slot_id for r in result.regenerated] == ids[:1]
    assert [r.slot_id for r in result.failed] == ids[1:]
    assert library.library(session, file_blobs, tenant.id).missing == 1


def test_a_greeting_is_uploaded_synthesised_and_deleted_back_to_the_default(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    user = make_user(session, tenant)
    me = actor_of(user)
    assert greetings.greeting_of(session, file_blobs, user).status == "none"

    first = greetings.upload_greeting(session, file_blobs, me, user, speech_wav())
    mine = greetings.greeting_of(session, file_blobs, user)
    assert (mine.status, mine.version) == ("ok", first)
    assert mine.slot is not None and mine.slot.kind == "greeting"
    spoken = greetings.tts_greeting(
        session, file_blobs, offline_tts(), me, user, "Hej, du har nått Anna.", "sv"
    )
    assert spoken.slot_id == mine.slot.id and spoken.engine == "espeak"

    greetings.remove_greeting(session, me, user)
    assert greetings.greeting_of(session, file_blobs, user).status == "none"
    assert len(library.versions(session, file_blobs, mine.slot)) == 2  # nothing thrown away


def test_only_the_user_or_their_admins_change_a_greeting(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    user, colleague = make_user(session, tenant), make_user(session, tenant)

    with pytest.raises(PermissionDenied):
        greetings.upload_greeting(session, file_blobs, actor_of(colleague), user, speech_wav())
    assert greetings.greeting_of(session, file_blobs, user).status == "none"


def test_received_voicemail_with_lost_audio_keeps_caller_and_time(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    user = make_user(session, tenant)
    box = voicemail.box_of(session, user)
    when = datetime(2026, 4, 26, 15, 30, tzinfo=UTC)
    kept = voicemail.deposit(
        session, file_blobs, box, caller="+46701112233", received_at=when,
        master_wav=speech_wav(seed=4), duration_ms=2000,
    )  # fmt: skip
    gone = voicemail.deposit(
        session, file_blobs, box, caller="+46709998877", received_at=when,
        master_wav=speech_wav(seed=5), duration_ms=2000,
    )  # fmt: skip
    assert gone.blob_sha256 is not None
    lose(file_blobs, gone.blob_sha256)

    listed = {m.message.id: m for m in greetings.received_messages(session, file_blobs, user)}

    assert listed[kept.id].playable
    assert not listed[gone.id].playable
    assert (listed[gone.id].message.caller, listed[gone.id].message.received_at) == (
        "+46709998877",
        when,
    )
    with pytest.raises(media_files.MediaGone):
        media_files.voicemail_audio(session, file_blobs, actor_of(user), str(gone.id))


def test_pictures_are_re_encoded_square_and_missing_ones_are_listed(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant, admin: Actor
) -> None:
    with_picture, without, lost = (make_user(session, tenant) for _ in range(3))
    picture = profile_pictures.upload_picture(
        session, file_blobs, actor_of(with_picture), with_picture, picture_bytes()
    )
    gone = profile_pictures.upload_picture(session, file_blobs, admin, lost, picture_bytes(300))
    lose(file_blobs, gone.blob_sha256)

    missing = profile_pictures.missing_pictures(session, file_blobs, tenant.id)

    assert {p.user.id for p in missing} >= {without.id, lost.id}
    assert with_picture.id not in {p.user.id for p in missing}
    served = profile_pictures.picture_file(session, file_blobs, admin, str(picture.id))
    assert served.content_type == "image/webp" and served.data[8:12] == b"WEBP"
    placeholder = profile_pictures.user_picture(session, file_blobs, admin, str(lost.id))
    assert placeholder.filename.endswith("-none.webp")


def _jpeg_with_gps() -> bytes:
    """A phone photo: EXIF with a GPS position and a description to look for."""
    image = Image.new("RGB", (320, 240), (10, 200, 30))
    exif = Image.Exif()
    exif[0x010E] = "where-anna-lives"
    exif[0x8825] = {1: "N", 2: (59.0, 19.0, 48.0), 3: "E", 4: (18.0, 4.0, 6.0)}  # GPS IFD
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    data = buffer.getvalue()
    assert b"where-anna-lives" in data and Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)
    return data


def test_only_the_re_encoded_picture_is_stored_never_its_exif(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant, admin: Actor
) -> None:
    """No EXIF (GPS position…) in the blob store, hence in no backup either."""
    user = make_user(session, tenant)
    picture = profile_pictures.upload_picture(session, file_blobs, admin, user, _jpeg_with_gps())
    assert picture.original_sha256 is None
    stored = [file_blobs.get(sha) for sha in file_blobs.iter_ids()]
    assert stored and not any(b"where-anna-lives" in blob for blob in stored)
    kept = Image.open(io.BytesIO(file_blobs.get(picture.blob_sha256)))
    assert not kept.getexif() and not kept.getexif().get_ifd(0x8825)
    referenced = {r.sha256 for r in iter_references(session) if r.owner == "profile_picture"}
    assert referenced == {picture.blob_sha256}


def test_a_picture_that_is_not_a_picture_is_refused(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant, admin: Actor
) -> None:
    user = make_user(session, tenant)

    with pytest.raises(media_errors.PictureError):
        profile_pictures.upload_picture(session, file_blobs, admin, user, b"GIF89a" + b"\0" * 50)
    assert profile_pictures.picture_of(session, file_blobs, user).status == "none"


def test_media_is_served_to_its_company_only_and_checked_against_its_hash(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant, admin: Actor
) -> None:
    slot = library.create_message(session, admin, tenant, kind="welcome", name="Välkommen")
    version = library.save_audio(session, file_blobs, admin, slot, speech_wav())
    rival = admin_of(session, make_tenant(session))
    user = make_user(session, tenant)

    served = media_files.version_audio(session, file_blobs, admin, str(version.id))
    assert served.content_type == "audio/wav" and served.data[:4] == b"RIFF"
    assert served.filename == f"message-{slot.id}-v{version.id}.wav"
    for outsider in (rival, actor_of(user)):
        with pytest.raises(NotFound):
            media_files.version_audio(session, file_blobs, outsider, str(version.id))
        with pytest.raises(NotFound):
            media_files.slot_audio(session, file_blobs, outsider, str(slot.id))
    corrupt(file_blobs, version.blob_sha256)
    with pytest.raises(media_files.MediaGone):
        media_files.slot_audio(session, file_blobs, admin, str(slot.id))


def test_a_user_reaches_their_own_greeting_but_not_a_colleagues(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    user, colleague = make_user(session, tenant), make_user(session, tenant)
    version = greetings.upload_greeting(session, file_blobs, actor_of(user), user, speech_wav())

    assert media_files.version_audio(session, file_blobs, actor_of(user), str(version.id))
    with pytest.raises(NotFound):
        media_files.version_audio(session, file_blobs, actor_of(colleague), str(version.id))


def test_media_in_the_database_store_works_the_same(session: Session, tenant: Tenant) -> None:
    blobs = SqlBlobStore(session)
    admin = admin_of(session, tenant)
    slot = library.create_message(session, admin, tenant, kind="queue", name="Kö")

    version = library.save_tts(session, blobs, offline_tts(), admin, slot, "Var god dröj.", "sv")

    assert library.message_row(session, blobs, slot).status == "ok"
    served = media_files.slot_audio(session, blobs, admin, str(slot.id))
    assert served.data == blobs.get(version.blob_sha256)
