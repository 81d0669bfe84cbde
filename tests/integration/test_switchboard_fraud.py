"""The fraud caps at call time (SECURITY.md 22) on both databases: a user whose forwarding
abroad crosses the hard cap is suspended (rules off, a block, alerts, audit) and further legs
are refused; a company over its cap gets no international legs at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.incident.containment import lift_block
from pbx.policies.fraud_thresholds import DEFAULTS
from pbx.services.calllog.entries import write_entries
from pbx.services.calls import simulated as calls
from pbx.services.calls.dialplan import build_snapshot
from pbx.services.calls.simulated import CallRequest
from pbx.services.common.actor import SYSTEM
from pbx.services.routing import forwarding
from storage.blobs import FileBlobStore
from storage.models import AuditEvent, ForwardingBlock, OutboxMessage, Tenant
from tests.integration.switchboard_world import CALLER, ERIK_DIRECT, demo_company, user_by_ext

NORWAY = "+4791234567"
NOW = datetime(2026, 7, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def tenant(session: Session, file_blobs: FileBlobStore) -> Tenant:
    tenant = demo_company(session, file_blobs)  # Norway is on its allowed list
    erik = user_by_ext(session, tenant, "102")
    forwarding.set_forwarding(session, SYSTEM, erik, kind="unconditional", destination=NORWAY)
    return tenant


def forwarded_call(session: Session, blobs: FileBlobStore, tenant: Tenant, at: datetime):
    request = CallRequest(CALLER, ERIK_DIRECT)
    return calls.run_call(session, blobs, tenant.id, request, started_at=at)


def test_crossing_the_users_cap_suspends_forwarding_and_refuses_further_legs(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    cap = int(DEFAULTS.intl_legs_user_hour.hard_cap or 0)
    for n in range(cap):
        result = forwarded_call(session, file_blobs, tenant, NOW + timedelta(minutes=2 * n))
        assert ("forward", NORWAY) in [(s.kind, s.to) for s in result.trace.steps]
    erik = user_by_ext(session, tenant, "102")
    rule = forwarding.find_rule(session, erik.id, "unconditional")
    assert rule is not None and not rule.active
    assert session.scalar(select(ForwardingBlock).where(ForwardingBlock.user_id == erik.id))
    crossed = session.scalars(select(AuditEvent).where(AuditEvent.action == "fraud.cap_crossed"))
    assert [e.target_id for e in crossed] == [str(erik.id)]
    told = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "forwarding_suspended")
    ).all()
    assert erik.id in {m.user_id for m in told}
    # why, in words in both languages; the rule's code is kept in the audit data
    body = told[0].body
    assert f"{cap} utlandssamtal på en timme från en användare (gränsen är {cap})" in body
    assert f"{cap} calls abroad in one hour from one user (the limit is {cap})" in body
    assert "intl_legs" not in body and "legs" not in body
    (why,) = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "fraud.cap_crossed")
    ).all()
    assert why.new["reason"] == f"intl_legs_user_hour: {cap} legs (limit {cap})"

    after = forwarded_call(session, file_blobs, tenant, NOW + timedelta(minutes=2 * cap))
    assert NORWAY not in [s.to for s in after.trace.steps]  # the rule is off: Erik rings

    lift_block(session, SYSTEM, erik, NOW + timedelta(minutes=40))  # an admin lifts it
    still_over = forwarded_call(session, file_blobs, tenant, NOW + timedelta(minutes=41))
    refused = [(s.to, s.reason) for s in still_over.trace.steps if s.kind == "refused"]
    assert refused == [(NORWAY, "forwarding_suspended")]  # the cap still holds this hour
    assert "voicemail" in [s.kind for s in still_over.trace.steps]  # falls back, not abroad


def test_a_company_over_its_cap_gets_no_international_legs(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    cap = int(DEFAULTS.intl_legs_tenant_hour.hard_cap or 0)
    rows = [
        {
            "call_id": f"earlier-{n}", "leg": 2, "tenant_id": tenant.id, "user_id": None,
            "caller": CALLER, "callee": "+358401234567", "direction": "forwarded",
            "started_at": NOW - timedelta(minutes=30), "answered_at": NOW - timedelta(minutes=30),
            "ended_at": NOW - timedelta(minutes=29), "disposition": "answered",
        }
        for n in range(cap)
    ]  # fmt: skip
    write_entries(session, rows)
    snap = build_snapshot(session, file_blobs, tenant.id, NOW)
    assert snap.guard.international_blocked
    result = forwarded_call(session, file_blobs, tenant, NOW)
    assert [(s.to, s.reason) for s in result.trace.steps if s.kind == "refused"] == [
        (NORWAY, "cost_cap")
    ]
    domestic = calls.run_call(
        session, file_blobs, tenant.id,
        CallRequest(CALLER, "+46852001002", busy=frozenset({"103"})), started_at=NOW,
    )  # fmt: skip
    assert "refused" not in [s.kind for s in domestic.trace.steps]  # Maria's mobile is Swedish
