"""Calls on a demo company, on SQLite and PostgreSQL: the snapshot built from the database,
every kind of path, and what a call leaves behind (call log, voicemail, audit)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.engine import UnknownNumber, validate_dialplan
from pbx.engine.errors import InvalidDtmf
from pbx.media.errors import AudioError
from pbx.policies.destinations import InvalidNumber
from pbx.services.calls import drill as call_drill
from pbx.services.calls import simulated as calls
from pbx.services.calls.dialplan import build_snapshot
from pbx.services.calls.simulated import CallRequest
from pbx.services.common.actor import SYSTEM
from pbx.services.library import slots as slot_service
from pbx.services.routing import forwarding
from storage.blobs import FileBlobStore
from storage.models import AuditEvent, CallLogEntry, MessageSlot, Tenant, VoicemailMessage
from tests.conftest import open_session
from tests.integration.switchboard_world import (
    CALLER,
    ERIK_DIRECT,
    MAIN,
    MARIA_DIRECT,
    MARIA_MOBILE,
    demo_company,
    user_by_ext,
)
from tests.library_media import speech_wav

SCRIPTS = (
    CallRequest(CALLER, MAIN, dtmf="1"),
    CallRequest(CALLER, MAIN, dtmf="1", busy=frozenset({"102", "103", "104"})),
    CallRequest(CALLER, MAIN, dtmf="21"),
    CallRequest(CALLER, MAIN, dtmf="22"),
    CallRequest(CALLER, MAIN, dtmf="7*0"),
    CallRequest(CALLER, MAIN),
    CallRequest(CALLER, ERIK_DIRECT, no_answer=frozenset({"102"})),
    CallRequest(CALLER, MARIA_DIRECT, busy=frozenset({"103"})),
    CallRequest("105", "104", unavailable=frozenset({"104"})),
)


@pytest.fixture
def tenant(session: Session, file_blobs: FileBlobStore) -> Tenant:
    return demo_company(session, file_blobs)


def kinds(result: calls.CallResult) -> list[str]:
    return [step.kind for step in result.trace.steps]


def call(
    session: Session, blobs: FileBlobStore, tenant: Tenant, request: CallRequest
) -> calls.CallResult:
    return calls.run_call(session, blobs, tenant.id, request)


def test_the_snapshot_is_valid_and_the_same_from_both_databases(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    traces = []
    for backend in ("sqlite", "postgresql"):
        session = open_session(request, backend)
        blobs = FileBlobStore(tmp_path / backend)
        tenant = demo_company(session, blobs)
        snap = build_snapshot(session, blobs, tenant.id)
        assert validate_dialplan(snap) == ()
        traces.append(
            [
                calls.simulate_request(session, snap, script, call_id="same").as_dict()
                for script in SCRIPTS
            ]
        )
    assert traces[0] == traces[1]


def test_ivr_to_the_queue_answered_writes_every_leg(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    result = call(session, file_blobs, tenant, CallRequest(CALLER, MAIN, dtmf="1"))
    # welcome, menu, key 1, queue message, the caller's position, the message on hold, ring
    assert kinds(result)[:7] == ["prompt", "prompt", "dtmf", "prompt", "prompt", "prompt", "ring"]
    assert result.trace.disposition == "answered"
    rows = session.scalars(
        select(CallLogEntry).where(CallLogEntry.id.in_(result.call_log_ids))
    ).all()
    assert {(r.leg, r.direction, r.disposition) for r in rows} == {
        (1, "inbound", "answered"),
        (2, "internal", "answered"),
    }
    erik = user_by_ext(session, tenant, "102")
    assert {r.user_id for r in rows} == {erik.id}
    assert all(r.call_id == result.trace.call_id for r in rows)


def test_queue_overflow_goes_to_voicemail_and_deposits_what_the_caller_says(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    busy = frozenset({"102", "103", "104"})
    request = CallRequest(CALLER, MAIN, dtmf="1", busy=busy, say=speech_wav(2.0))
    result = call(session, file_blobs, tenant, request)
    assert kinds(result).count("busy") == 3
    assert "deposit" in kinds(result)
    assert result.trace.disposition == "voicemail"
    [message] = session.scalars(
        select(VoicemailMessage).where(VoicemailMessage.id.in_(result.voicemail_ids))
    ).all()
    assert message.caller == CALLER and message.duration_ms > 1500
    file_blobs.verify(message.blob_sha256 or "")


def test_forwarding_no_answer_busy_unconditional_and_unavailable(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    no_answer = call(
        session, file_blobs, tenant, CallRequest(CALLER, ERIK_DIRECT, no_answer=frozenset({"102"}))
    )
    assert ("forward", "103", "no_answer") in [
        (s.kind, s.to, s.reason) for s in no_answer.trace.steps
    ]
    busy = call(
        session, file_blobs, tenant, CallRequest(CALLER, MARIA_DIRECT, busy=frozenset({"103"}))
    )
    assert ("forward", MARIA_MOBILE) in [(s.kind, s.to) for s in busy.trace.steps]
    rows = session.scalars(select(CallLogEntry).where(CallLogEntry.id.in_(busy.call_log_ids))).all()
    assert {r.direction for r in rows} == {"inbound", "internal", "forwarded"}
    assert [r.forwarded_to for r in rows if r.leg == 1] == [MARIA_MOBILE]
    always = call(session, file_blobs, tenant, CallRequest("102", "105"))
    assert ("forward", "101", "unconditional") in [
        (s.kind, s.to, s.reason) for s in always.trace.steps
    ]


def test_a_leg_refused_at_call_time_falls_back_to_voicemail_and_is_audited(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    maria = user_by_ext(session, tenant, "103")
    forwarding.set_forwarding(session, SYSTEM, maria, kind="busy", destination="+4791234567")
    tenant.allowed_countries = ["FI"]  # Norway taken off the list after the rule was saved
    session.flush()
    result = call(
        session, file_blobs, tenant, CallRequest(CALLER, MARIA_DIRECT, busy=frozenset({"103"}))
    )
    refused = [s for s in result.trace.steps if s.kind == "refused"]
    assert [(s.to, s.reason) for s in refused] == [("+4791234567", "country_not_allowed")]
    assert (
        "voicemail" in kinds(result)
        and "ring" not in kinds(result)[kinds(result).index("refused") :]
    )
    rows = session.scalars(
        select(CallLogEntry).where(CallLogEntry.id.in_(result.call_log_ids))
    ).all()
    assert [r.refused_reason for r in rows if r.disposition == "refused"] == ["country_not_allowed"]
    audited = session.scalars(select(AuditEvent).where(AuditEvent.action == "call.refused")).all()
    assert [e.target_id for e in audited] == [result.trace.call_id]


def test_missing_audio_plays_a_fallback_marked_missing_and_the_call_goes_on(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    welcome = session.scalar(
        select(MessageSlot).where(MessageSlot.tenant_id == tenant.id, MessageSlot.kind == "welcome")
    )
    assert welcome is not None
    version = slot_service.current_version(session, welcome)
    assert version is not None
    file_blobs.path_for(version.blob_sha256).unlink()
    result = call(session, file_blobs, tenant, CallRequest(CALLER, MAIN, dtmf="0"))
    first, second = result.trace.steps[:2]
    assert (first.kind, first.slot_id, first.audio) == ("prompt", str(welcome.id), "missing")
    assert (second.kind, second.reason) == ("tone", "fallback")
    assert ("ring", "101") in [(s.kind, s.to) for s in result.trace.steps]


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        (CallRequest(CALLER, "+46899999999"), UnknownNumber),
        (CallRequest(CALLER, "+4685200100x"), InvalidNumber),
        (CallRequest("0701112233", MAIN), InvalidNumber),
        (CallRequest(CALLER, MAIN, dtmf="12a"), InvalidDtmf),
        (CallRequest(CALLER, MAIN, say=b"this is not audio at all"), AudioError),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant, request_: CallRequest, error: type
) -> None:
    before = session.query(CallLogEntry).count()
    with pytest.raises(error):
        call(session, file_blobs, tenant, request_)
    assert session.query(CallLogEntry).count() == before


def test_the_drill_calls_every_number_and_every_ivr_key(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    report = call_drill.test_call_every_path(session, file_blobs, tenant.id)
    assert report.ok and report.unreached_menus == []
    keys = {(p.number, p.keys) for p in report.paths}
    assert {(MAIN, k) for k in ("1", "2", "0", "t", "21", "22", "29", "2t")} <= keys
    assert {(ERIK_DIRECT, ""), (MARIA_DIRECT, "")} <= keys
    assert session.query(CallLogEntry).count() == 0  # the drill writes nothing


def test_the_drill_names_what_is_wrong(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    support = session.scalar(select(MessageSlot).where(MessageSlot.name == "Kundtjänstmeny"))
    assert support is not None
    version = slot_service.current_version(session, support)
    assert version is not None
    file_blobs.path_for(version.blob_sha256).unlink()
    forwarding.set_forwarding(
        session, SYSTEM, user_by_ext(session, tenant, "102"), kind="unconditional",
        destination="+4791234567",
    )  # fmt: skip
    tenant.allowed_countries = []
    session.flush()
    report = call_drill.test_call_every_path(session, file_blobs, tenant.id)
    assert not report.ok
    bad = {p.keys: p for p in report.paths if not p.ok}
    assert set(bad) >= {"2", "21", "22", "29", "2t"}
    assert bad["21"].missing == ("Kundtjänstmeny",)
    assert [p.refused for p in report.paths if p.number == ERIK_DIRECT] == [
        ("+4791234567: country_not_allowed",)
    ]
