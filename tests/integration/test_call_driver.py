"""Every kind of call goes through the one driver (`pbx.services.calls.driver`) and leaves
call-log rows people can read: a caller, a direction and an outcome from the call log's one
list, each with a label in Swedish and English. On SQLite and PostgreSQL.

Simulated calls (inbound, IVR, queue, forwarding, voicemail, 333 from a number) and calls
with a person at the other end (the record-by-phone callback saved, declined, hung up while
ringing and left silent; 333 with 5/0/4/6 from the softphone) are run on one demo company.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_web.i18n import load_catalog
from pbx.services.calllog.vocabulary import (
    DIRECTION_LABELS,
    DIRECTIONS,
    DISPOSITION_LABELS,
    DISPOSITIONS,
)
from pbx.services.calls import live as live_calls
from pbx.services.calls import simulated as calls
from pbx.services.calls.live import PhoneEvent
from pbx.services.calls.simulated import CallRequest
from pbx.services.common.actor import Actor
from pbx.services.library import messages as library
from storage.blobs import FileBlobStore
from storage.models import CallLogEntry, LiveCall, Tenant, User
from tests.integration.switchboard_world import (
    CALLER,
    ERIK_DIRECT,
    MAIN,
    MARIA_DIRECT,
    demo_company,
    user_by_ext,
)
from tests.library_media import encode, silent_wav, speech_wav


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.email, user.role, user.tenant_id)


@pytest.fixture
def tenant(session: Session, file_blobs: FileBlobStore) -> Tenant:
    return demo_company(session, file_blobs)


def simulated_calls(session: Session, blobs: FileBlobStore, tenant: Tenant) -> set[str]:
    """Inbound through the IVR to the queue, queue overflow to voicemail, forwarding on no
    answer and on busy (to a mobile), an internal call forwarded unconditionally, 333 from a
    mobile number. Returns the engine's dispositions seen."""
    busy_queue = frozenset({"102", "103", "104"})
    requests = [
        CallRequest(CALLER, MAIN, dtmf="1"),
        CallRequest(CALLER, MAIN, dtmf="1", busy=busy_queue, say=speech_wav(1.5)),
        CallRequest(CALLER, ERIK_DIRECT, no_answer=frozenset({"102"})),
        CallRequest(CALLER, MARIA_DIRECT, busy=frozenset({"103"})),
        CallRequest("102", "105"),
        CallRequest(user_by_ext(session, tenant, "102").mobile or "", "333", dtmf="5"),
    ]
    return {
        calls.run_call(session, blobs, tenant.id, request).trace.disposition
        for request in requests
    }


def live_calls_of_every_kind(session: Session, blobs: FileBlobStore, tenant: Tenant) -> list[str]:
    """Record by phone: saved, declined, hung up while ringing, silent to the end; 333 from
    the softphone with 5, 0, 4, 6. Returns each call's outcome."""
    admin = user_by_ext(session, tenant, "101")
    me = actor_of(admin)
    slot = library.create_message(
        session, me, tenant, kind="welcome", name="Ny hälsning", script_text="Hej!"
    )
    number = admin.mobile or ""

    def callback() -> LiveCall:
        return live_calls.start_callback(session, blobs, me, admin, slot, number)

    def feed(call: LiveCall, kind: str, digit: str = "", audio: bytes | None = None) -> LiveCall:
        return live_calls.feed(session, blobs, me, call, PhoneEvent(kind, digit), audio=audio)

    saved = feed(callback(), "answer")
    saved = feed(saved, "hangup", audio=encode(speech_wav(2.0), "webm"))
    declined = feed(callback(), "decline")
    cancelled = feed(callback(), "hangup")
    silent = feed(callback(), "answer")
    while silent.status != "ended":
        silent = feed(silent, "dtmf", "#", audio=silent_wav())
    service = live_calls.dial_service(session, blobs, me, admin)
    service = feed(service, "dtmf", "5")
    service = feed(service, "dtmf", "0", audio=encode(speech_wav(1.5), "webm"))
    for key in "46":
        service = feed(service, "dtmf", key)
    service = feed(service, "hangup")
    return [c.outcome or "" for c in (saved, declined, cancelled, silent, service)]


def test_every_kind_of_call_writes_rows_people_can_read(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    engine_outcomes = simulated_calls(session, file_blobs, tenant)
    live_outcomes = live_calls_of_every_kind(session, file_blobs, tenant)
    assert {"answered", "voicemail"} <= engine_outcomes
    assert live_outcomes == ["recorded", "busy", "cancelled", "silent", "service"]

    rows = session.scalars(select(CallLogEntry).where(CallLogEntry.tenant_id == tenant.id)).all()
    swedish = load_catalog("sv")
    for row in rows:
        what = (row.call_id, row.leg, row.direction, row.disposition, row.caller)
        assert row.caller, what
        assert row.direction in DIRECTIONS and row.disposition in DISPOSITIONS, what
    for code, label in [*DISPOSITION_LABELS.items(), *DIRECTION_LABELS.items()]:
        assert label and swedish.get(label, label) != label, code
    assert set(DISPOSITION_LABELS) == set(DISPOSITIONS)
    assert set(DIRECTION_LABELS) == set(DIRECTIONS)
    # Every kind of row was written: the callbacks go out, 333 is internal.
    assert {row.direction for row in rows} == set(DIRECTIONS)
    recorded = [r for r in rows if r.direction == "outbound" and r.disposition == "answered"]
    assert recorded and all(r.caller == MAIN for r in recorded)
