"""Core services on both databases: they validate, refuse bad input with a clear error,
store nothing on error, and audit what they change."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pbx.errors import Conflict, PermissionDenied, ValidationError
from pbx.services.audit import log as audit
from pbx.services.common.actor import SYSTEM, Actor
from pbx.services.library import slots
from pbx.services.routing import forwarding, ivr, numbers, queues
from pbx.services.routing.targets import Target
from pbx.services.tenants import companies as tenants
from storage.blobs import MemoryBlobStore
from storage.models import AuditEvent, ForwardingRule, IvrOption, PhoneNumber, Tenant, User
from tests.builders import make_tenant, make_user


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("org_number", "556036-0794"), ("org_number", "12"), ("slug", "A B"), ("name", "  ")],
)
def test_tenant_bad_input_is_refused_and_nothing_stored(
    session: Session, field: str, value: str
) -> None:
    values = {"name": "Ok AB", "org_number": "556036-0793", "slug": "ok-ab", field: value}
    with pytest.raises(ValidationError) as err:
        tenants.create_tenant(session, SYSTEM, **values)
    assert err.value.field == field
    assert count(session, Tenant) == 0


def test_duplicate_company_is_refused(session: Session) -> None:
    make_tenant(session, slug="acme", org_number="556036-0793")
    with pytest.raises(Conflict):
        make_tenant(session, slug="acme")
    with pytest.raises(Conflict):
        make_tenant(session, org_number="5560360793")
    assert count(session, Tenant) == 1


def test_company_admin_cannot_create_companies(session: Session) -> None:
    admin = Actor(user_id=1, label="a", role="company_admin", tenant_id=1)
    with pytest.raises(PermissionDenied):
        tenants.create_tenant(session, admin, name="X AB", org_number="556036-0793", slug="xab")


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("email", {"email": "not-an-email"}),
        ("extension", {"extension": "0123"}),
        ("extension", {"extension": "333"}),
        ("mobile", {"mobile": "0701234567x"}),
        ("mobile", {"mobile": "+46 12"}),
        ("role", {"role": "root"}),
    ],
)
def test_user_bad_input_is_refused(session: Session, field: str, overrides: dict) -> None:
    tenant = make_tenant(session)
    before = count(session, User)
    with pytest.raises(ValidationError) as err:
        make_user(session, tenant, **overrides)
    assert err.value.field == field
    assert count(session, User) == before


def test_extensions_are_unique_per_company_not_globally(session: Session) -> None:
    a, b = make_tenant(session), make_tenant(session)
    make_user(session, a, extension="101")
    make_user(session, b, extension="101")
    with pytest.raises(Conflict):
        make_user(session, a, extension="101")


def test_user_gets_a_voicemail_box_and_a_session_token(session: Session) -> None:
    user = make_user(session, make_tenant(session))
    assert len(user.session_token) == 64 and user.password_hash is None
    assert user.must_change_password


def test_number_must_be_e164_and_unique(session: Session) -> None:
    tenant = make_tenant(session)
    user = make_user(session, tenant)
    numbers.add_number(session, SYSTEM, tenant, "+46 8 520 010 00", Target("user", user_id=user.id))
    with pytest.raises(Conflict):
        numbers.add_number(session, SYSTEM, tenant, "+46852001000", Target("user", user_id=user.id))
    with pytest.raises(ValidationError):
        numbers.add_number(session, SYSTEM, tenant, "08-12", Target("user", user_id=user.id))
    assert [n.e164 for n in numbers.list_numbers(session)] == ["+46852001000"]


def test_number_cannot_route_to_another_companys_user(session: Session) -> None:
    a, b = make_tenant(session), make_tenant(session)
    stranger = make_user(session, b)
    with pytest.raises(ValidationError):
        numbers.add_number(session, SYSTEM, a, "+46852001000", Target("user", user_id=stranger.id))
    assert count(session, PhoneNumber) == 0


def test_ivr_digits_are_unique_and_star_is_reserved(session: Session) -> None:
    tenant = make_tenant(session)
    user = make_user(session, tenant)
    menu = ivr.create_menu(session, SYSTEM, tenant, name="Huvudmeny", prompt_slot_id=None)
    ivr.set_option(session, SYSTEM, tenant, menu, "1", Target("user", user_id=user.id))
    with pytest.raises(ValidationError) as err:
        ivr.set_option(session, SYSTEM, tenant, menu, "1", Target("hangup"))
    assert err.value.code == "duplicate_digit"
    with pytest.raises(ValidationError):
        ivr.set_option(session, SYSTEM, tenant, menu, "*", Target("hangup"))
    assert count(session, IvrOption) == 1


def test_ivr_refuses_external_premium_destination(session: Session) -> None:
    tenant = make_tenant(session)
    menu = ivr.create_menu(session, SYSTEM, tenant, name="Meny", prompt_slot_id=None)
    with pytest.raises(ValidationError) as err:
        ivr.set_option(
            session, SYSTEM, tenant, menu, "2", Target("external", external="+46900123456")
        )
    assert err.value.code == "premium_rate"


def test_forwarding_guard_at_save_time(session: Session) -> None:
    tenant = make_tenant(session)
    user = make_user(session, tenant)
    cases = {
        "+46939123456": "premium_rate",
        "+88234567890": "international_network",
        "+4791234567": "country_not_allowed",
    }
    for number, reason in cases.items():
        with pytest.raises(ValidationError) as err:
            forwarding.set_forwarding(session, SYSTEM, user, kind="busy", destination=number)
        assert err.value.code == reason, number
    assert count(session, ForwardingRule) == 0
    tenant.allowed_countries = ["NO"]
    rule = forwarding.set_forwarding(session, SYSTEM, user, kind="busy", destination="+4791234567")
    assert (rule.destination_kind, rule.destination) == ("external", "+4791234567")


def test_forwarding_loops_are_refused(session: Session) -> None:
    tenant = make_tenant(session)
    a, b, c = (make_user(session, tenant) for _ in range(3))
    forwarding.set_forwarding(session, SYSTEM, a, kind="unconditional", destination=b.extension)
    forwarding.set_forwarding(session, SYSTEM, b, kind="unconditional", destination=c.extension)
    with pytest.raises(ValidationError, match="loop"):
        forwarding.set_forwarding(session, SYSTEM, c, kind="unconditional", destination=a.extension)
    with pytest.raises(ValidationError, match="loop"):
        forwarding.set_forwarding(session, SYSTEM, a, kind="busy", destination=a.extension)


def test_forwarding_change_is_audited_with_old_and_new(session: Session) -> None:
    tenant = make_tenant(session)
    user, other = make_user(session, tenant), make_user(session, tenant)
    forwarding.set_forwarding(session, SYSTEM, user, kind="busy", destination=other.extension)
    forwarding.set_forwarding(session, SYSTEM, user, kind="busy", destination="+46701234567")
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "forwarding.set").order_by(AuditEvent.id)
    ).all()[-1]
    assert event.old["destination"] == other.extension
    assert event.new["destination"] == "+46701234567"


def test_user_cannot_change_someone_elses_forwarding(session: Session) -> None:
    tenant = make_tenant(session)
    me, other = make_user(session, tenant), make_user(session, tenant)
    actor = Actor(user_id=me.id, label=me.email, role="user", tenant_id=tenant.id)
    with pytest.raises(PermissionDenied):
        forwarding.set_forwarding(session, actor, other, kind="busy", destination=me.extension)


def test_slot_versions_and_placements_both_ways(session: Session) -> None:
    tenant = make_tenant(session)
    user = make_user(session, tenant)
    blobs = MemoryBlobStore()
    welcome = slots.create_slot(session, SYSTEM, tenant, kind="welcome", name="Välkommen")
    queue_msg = slots.create_slot(session, SYSTEM, tenant, kind="queue", name="Kö")
    number = numbers.add_number(
        session,
        SYSTEM,
        tenant,
        "+46852001000",
        Target("user", user_id=user.id),
        welcome_slot_id=welcome.id,
    )
    queue = queues.create_queue(
        session, SYSTEM, tenant, name="Sälj", message_slot_id=queue_msg.id, members=[user.id]
    )
    assert slots.placements(session, welcome)[0].object_id == number.id
    assert slots.placements(session, queue_msg)[0].object_id == queue.id
    assert number.welcome_slot_id == welcome.id  # and the other way round
    assert slots.audio_status(session, blobs, welcome) == "missing"
    first = slots.add_version(
        session, blobs, SYSTEM, welcome, b"one", source="upload", duration_ms=1
    )
    second = slots.add_version(session, blobs, SYSTEM, welcome, b"two", source="tts", duration_ms=1)
    assert welcome.current_version_id == second.id and first.id != second.id
    assert slots.audio_status(session, blobs, welcome) == "ok"


def test_audit_chain_verifies_and_detects_tampering(session: Session) -> None:
    tenant = make_tenant(session)
    make_user(session, tenant)
    make_user(session, tenant)
    assert audit.verify_chain(session) == []
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    events[1].new = {"name": "someone else"}
    session.flush()
    problems = audit.verify_chain(session)
    assert [p.event_id for p in problems] == [events[1].id]


def test_audit_chain_detects_a_removed_entry(session: Session) -> None:
    tenant = make_tenant(session)
    for _ in range(3):
        make_user(session, tenant)
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    session.delete(events[2])
    session.flush()
    assert [p.event_id for p in audit.verify_chain(session)] == [events[3].id]


def test_audit_never_stores_secrets(session: Session) -> None:
    event = audit.record(session, SYSTEM, "x", new={"password": "hunter2hunter2", "ok": 1})
    assert event.new == {"password": "[redacted]", "ok": 1}
