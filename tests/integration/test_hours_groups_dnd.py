"""Opening hours, ring groups and queue strategies, do-not-disturb: the services on SQLite
and PostgreSQL, the snapshot built from them, and calls run through the one driver."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.engine import validate_dialplan
from pbx.errors import PermissionDenied, ValidationError
from pbx.services.calls import simulated as calls
from pbx.services.calls.dialplan import build_snapshot
from pbx.services.calls.simulated import CallRequest, local_time_of
from pbx.services.common.actor import SYSTEM, Actor
from pbx.services.library import slots as slot_service
from pbx.services.people import presence
from pbx.services.routing import hours, queues
from pbx.services.routing.targets import Target
from storage.blobs import FileBlobStore
from storage.models import AuditEvent, IvrOption, MessageSlot, PhoneNumber, Queue, Tenant
from tests.integration.switchboard_world import (
    CALLER,
    ERIK_DIRECT,
    MAIN,
    demo_company,
    user_by_ext,
)

SATURDAY = datetime(2025, 3, 8, 11, 0)
MONDAY = datetime(2025, 3, 3, 10, 0)


@pytest.fixture
def tenant(session: Session, file_blobs: FileBlobStore) -> Tenant:
    return demo_company(session, file_blobs)


def number(session: Session, e164: str) -> PhoneNumber:
    found = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == e164))
    assert found is not None
    return found


def closed_slot(session: Session, tenant: Tenant) -> MessageSlot:
    found = session.scalar(
        select(MessageSlot).where(MessageSlot.tenant_id == tenant.id, MessageSlot.name == "Stängt")
    )
    assert found is not None
    return found


def call(session: Session, blobs: FileBlobStore, tenant: Tenant, **kw: object) -> list[tuple]:
    request = CallRequest(CALLER, kw.pop("dialled", ERIK_DIRECT), **kw)  # type: ignore[arg-type]
    result = calls.run_call(session, blobs, tenant.id, request)
    return [(s.kind, s.to or s.slot_name, s.reason, s.detail) for s in result.trace.steps]


def test_number_routes_by_company_hours_with_stangt_then_voicemail(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    erik = number(session, ERIK_DIRECT)
    reception = user_by_ext(session, tenant, "101")
    stangt = closed_slot(session, tenant)
    target = Target("voicemail", user_id=reception.id)
    hours.set_closed_branch(session, SYSTEM, tenant, erik, target, stangt.id)
    hours.set_weekly(session, SYSTEM, tenant, {d: "08:00-17:00" for d in range(5)})
    assert validate_dialplan(build_snapshot(session, file_blobs, tenant.id)) == ()

    open_steps = call(session, file_blobs, tenant, local_time=MONDAY)
    assert open_steps[0] == ("hours", "open", "within_hours", "08:00–17:00")
    closed = call(session, file_blobs, tenant, local_time=SATURDAY)
    assert closed[0] == ("hours", "closed", "outside_hours", "sat")
    assert closed[1][:2] == ("prompt", "Stängt")
    assert ("voicemail", "101", None, None) in closed
    julafton = call(session, file_blobs, tenant, local_time=datetime(2025, 12, 24, 10))
    assert julafton[0] == ("hours", "closed", "holiday", "Julafton")
    # the placement shows in the library
    kinds = [p.kind for p in slot_service.placements(session, stangt)]
    assert "number_closed" in kinds


def test_holidays_and_closed_days_are_changeable_and_audited(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    erik = number(session, ERIK_DIRECT)
    target = Target("voicemail", user_id=user_by_ext(session, tenant, "101").id)
    hours.set_closed_branch(session, SYSTEM, tenant, erik, target, None)
    hours.set_open_holidays(session, SYSTEM, tenant, ["Julafton"], 2025)
    assert call(session, file_blobs, tenant, local_time=datetime(2025, 12, 24, 10))[0][1] == "open"
    hours.add_closed_day(session, SYSTEM, tenant, "2025-03-03", "Personaldag")
    assert call(session, file_blobs, tenant, local_time=MONDAY)[0] == (
        "hours",
        "closed",
        "closed_day",
        "Personaldag",
    )
    hours.remove_closed_day(session, SYSTEM, tenant, "2025-03-03")
    assert call(session, file_blobs, tenant, local_time=MONDAY)[0][1] == "open"
    with pytest.raises(ValidationError):
        hours.set_open_holidays(session, SYSTEM, tenant, ["Påhittad dag"], 2025)
    with pytest.raises(ValidationError) as bad:
        hours.set_weekly(session, SYSTEM, tenant, {0: "17:00-08:00"})
    assert bad.value.field == "day_0"
    with pytest.raises(ValidationError):
        hours.add_closed_day(session, SYSTEM, tenant, "31/12")
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.tenant_id == tenant.id))
    assert {"hours.update", "hours.closed_branch"} <= set(actions)


def test_a_number_may_have_its_own_hours(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    erik = number(session, ERIK_DIRECT)
    target = Target("voicemail", user_id=user_by_ext(session, tenant, "101").id)
    hours.set_closed_branch(session, SYSTEM, tenant, erik, target, None)
    hours.set_weekly(session, SYSTEM, tenant, {5: "10:00-14:00"}, number=erik)
    assert call(session, file_blobs, tenant, local_time=SATURDAY)[0][1] == "open"
    assert call(session, file_blobs, tenant, local_time=MONDAY)[0][1] == "closed"
    hours.drop_number_hours(session, SYSTEM, tenant, erik)
    assert call(session, file_blobs, tenant, local_time=MONDAY)[0][1] == "open"


def test_an_ivr_key_routes_by_hours(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    option = session.scalar(select(IvrOption).where(IvrOption.digit == "0").order_by(IvrOption.id))
    assert option is not None
    target = Target("voicemail", user_id=user_by_ext(session, tenant, "101").id)
    hours.set_closed_branch(
        session, SYSTEM, tenant, option, target, closed_slot(session, tenant).id
    )
    steps = call(session, file_blobs, tenant, dialled=MAIN, dtmf="0", local_time=SATURDAY)
    assert ("hours", "closed", "outside_hours", "sat") in steps


def test_run_call_judges_hours_on_stockholm_time() -> None:
    # 06:30 UTC is 08:30 in Stockholm in summer (CEST), 07:30 in winter (CET)
    assert local_time_of(datetime(2025, 7, 1, 6, 30, tzinfo=UTC)) == datetime(2025, 7, 1, 8, 30)
    assert local_time_of(datetime(2025, 1, 7, 6, 30)) == datetime(2025, 1, 7, 7, 30)


def test_ring_group_strategies_and_queue_announcements(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    queue = session.scalar(select(Queue).where(Queue.tenant_id == tenant.id))
    assert queue is not None
    hold = slot_service.create_slot(session, SYSTEM, tenant, kind="hold", name="Väntemusik")
    members = [m.user_id for m in queues.members_of(session, queue.id)]
    common = dict(
        name=queue.name, message_slot_id=queue.message_slot_id, members=members,
        max_wait_seconds=60, overflow=Target("hangup"),
    )  # fmt: skip
    queues.update_queue(
        session, SYSTEM, tenant, queue, **common, announce_position=True, hold_slot_id=hold.id
    )  # type: ignore[arg-type]
    steps = call(session, file_blobs, tenant, dialled=MAIN, dtmf="1", local_time=MONDAY)
    prompts = [s[1] for s in steps if s[0] == "prompt"]
    assert prompts[-3:] == ["Kömeddelande", "queue_position_1", "Väntemusik"]
    assert ("Väntemusik", "missing") in [
        (s.slot_name, s.audio) for s in _trace(session, file_blobs, tenant).steps
    ]  # a hold message without audio is marked, never fatal
    assert "queue_hold" in [p.kind for p in slot_service.placements(session, hold)]
    queues.update_queue(
        session, SYSTEM, tenant, queue, **common, kind="ring_group", strategy="ring_all",
        ring_seconds=20,
    )  # type: ignore[arg-type]  # fmt: skip
    rings = [
        s[1] for s in call(session, file_blobs, tenant, dialled=MAIN, dtmf="1") if s[0] == "ring"
    ]
    assert rings == ["102, 103, 104"]
    with pytest.raises(ValidationError):
        queues.update_queue(
            session, SYSTEM, tenant, queue, **common, kind="ring_group", announce_position=True
        )  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        queues.update_queue(session, SYSTEM, tenant, queue, **common, strategy="random")  # type: ignore[arg-type]


def _trace(session: Session, blobs: FileBlobStore, tenant: Tenant) -> calls.Trace:
    snap = build_snapshot(session, blobs, tenant.id)
    return calls.simulate_request(session, snap, CallRequest(CALLER, MAIN, dtmf="1"))


def test_round_robin_remembers_the_last_member_from_the_call_log(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    queue = session.scalar(select(Queue).where(Queue.tenant_id == tenant.id))
    assert queue is not None
    members = [m.user_id for m in queues.members_of(session, queue.id)]
    queues.update_queue(
        session, SYSTEM, tenant, queue, name=queue.name, message_slot_id=None, members=members,
        max_wait_seconds=60, overflow=Target("hangup"), strategy="round_robin",
    )  # fmt: skip
    first = call(session, file_blobs, tenant, dialled=MAIN, dtmf="1")
    second = call(session, file_blobs, tenant, dialled=MAIN, dtmf="1")
    rung = [[s[1] for s in steps if s[0] == "ring"] for steps in (first, second)]
    assert rung == [["102"], ["103"]]


def test_dnd_from_the_site_and_from_the_phone(
    session: Session, file_blobs: FileBlobStore, tenant: Tenant
) -> None:
    maria = user_by_ext(session, tenant, "103")
    own = Actor(maria.id, maria.email, "user", tenant.id)
    presence.set_dnd(session, own, maria, True)
    assert [u.id for u in presence.on_dnd(session, tenant.id)] == [maria.id]
    steps = call(session, file_blobs, tenant, dialled="+46852001002")  # Maria's direct number
    assert ("dnd", "103", None, None) in steps
    other = user_by_ext(session, tenant, "102")
    with pytest.raises(PermissionDenied):
        presence.set_dnd(session, Actor(other.id, other.email, "user", tenant.id), maria, False)
    # *76 from her own extension switches it off again, through the driver
    result = calls.run_call(session, file_blobs, tenant.id, CallRequest("103", "*76"))
    assert [(s.kind, s.reason) for s in result.trace.steps][0] == ("presence", "dnd_off")
    session.refresh(maria)
    assert maria.dnd is False
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.dnd"))
    assert [e.new["via"] for e in events] == ["site", "phone"]  # type: ignore[index]
