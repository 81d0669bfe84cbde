"""The incident register on both databases: operator records, companies are told and
decide for themselves within their own scope, deadlines, the exported document, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import NotFound, PermissionDenied, ValidationError
from pbx.incident import assessment, register, register_export
from pbx.incident.assessment import Decision
from pbx.incident.register import IncidentFields
from pbx.services.common.actor import Actor
from storage.models import AuditEvent, OutboxMessage, Tenant, User, utcnow
from tests.builders import make_tenant, make_user

OPERATOR = Actor(None, "operator@test", "operator")
REASONING = "Samtalslistan innehöll bara nummer; låg risk för de registrerade enligt vår bedömning."


def admin_of(user: User) -> Actor:
    return Actor(user.id, user.email, "company_admin", user.tenant_id)


def fields(**over: object) -> IncidentFields:
    values: dict[str, object] = {
        "title": "Intrång i växelns webbtjänst",
        "discovered_at": utcnow() - timedelta(hours=2),
        "description": "Konton togs över och vidarekopplades till utlandet.",
        "nature": ("confidentiality",),
        "data_categories": ("samtalslistor", "telefonnummer"),
        "subject_categories": ("uppringare",),
        "approx_subjects": 12000,
    }
    values.update(over)
    return IncidentFields(**values)  # type: ignore[arg-type]


@pytest.fixture
def two(session: Session) -> tuple[Tenant, User, Tenant, User]:
    a, b = make_tenant(session), make_tenant(session)
    return (
        a,
        make_user(session, a, role="company_admin"),
        b,
        make_user(session, b, role="company_admin"),
    )


def test_the_operator_records_and_each_company_is_told(session: Session, two) -> None:  # type: ignore[no-untyped-def]
    a, admin_a, b, admin_b = two
    incident = register.create(session, OPERATOR, fields(), [a.id, b.id])
    assert [p.tenant_id for p in register.parts_of(session, incident)] == sorted([a.id, b.id])
    told = session.scalars(
        select(OutboxMessage.to_address).where(OutboxMessage.kind == "incident_assessment")
    )
    assert sorted(told) == sorted([admin_a.email, admin_b.email])
    with pytest.raises(ValidationError):
        register.create(session, OPERATOR, fields(title=" "))
    with pytest.raises(ValidationError):
        register.create(session, OPERATOR, fields(nature=("gossip",)))
    with pytest.raises(PermissionDenied):
        register.create(session, admin_of(admin_a), fields())


def test_a_company_admin_sees_and_decides_only_for_their_company(session: Session, two) -> None:  # type: ignore[no-untyped-def]
    a, admin_a, b, admin_b = two
    incident = register.create(session, OPERATOR, fields(), [a.id, b.id])
    only_b = register.create(session, OPERATOR, fields(title="Bara B"), [b.id])
    actor = admin_of(admin_a)
    assert [i.id for i in register.list_incidents(session, actor)] == [incident.id]
    with pytest.raises(NotFound):
        register.get_incident(session, actor, only_b.id)
    with pytest.raises(NotFound):
        register.company_part(session, actor, incident, b.id)
    part = register.company_part(session, actor, incident, a.id)
    with pytest.raises(ValidationError):
        assessment.decide(session, actor, part, Decision("no_report", "too short"))
    with pytest.raises(PermissionDenied):
        assessment.decide(session, admin_of(admin_b), part, Decision("no_report", REASONING))
    with pytest.raises(PermissionDenied):
        assessment.decide(session, OPERATOR, part, Decision("no_report", REASONING))
    assessment.decide(session, actor, part, Decision("no_report", REASONING, assessment="Låg risk"))
    assert (part.decision, part.decided_by_user_id) == ("no_report", admin_a.id)
    event = session.scalar(
        select(AuditEvent).where(AuditEvent.action == "incident.company_decision")
    )
    assert event is not None and event.tenant_id == a.id and event.new["decision"] == "no_report"  # type: ignore[index]
    with pytest.raises(PermissionDenied):
        register.list_incidents(session, Actor(1, "u", "user", a.id))


def test_deadlines_pts_24_hours_and_each_company_72_hours(session: Session, two) -> None:  # type: ignore[no-untyped-def]
    a, admin_a, b, _ = two
    incident = register.create(session, OPERATOR, fields(), [a.id, b.id])
    assert assessment.pts_deadline(incident).status == "open"
    assert assessment.pts_deadline(incident, utcnow() + timedelta(hours=23)).status == "overdue"
    register.record_pts_report(session, OPERATOR, incident, utcnow(), "PTS-2026-117")
    assert assessment.pts_deadline(incident).status == "done"
    part_a = register.company_part(session, OPERATOR, incident, a.id)
    part_b = register.company_part(session, OPERATOR, incident, b.id)
    assessment.decide(
        session,
        admin_of(admin_a),
        part_a,
        Decision("report", REASONING, imy_reported_at=utcnow(), imy_reference="IMY-1"),
    )
    later = utcnow() + timedelta(hours=73)
    assert assessment.company_deadline(part_a, later).status == "done"
    assert assessment.company_deadline(part_b, later).status == "overdue"
    assert assessment.company_deadline(part_b).hours_left(utcnow()) > 71


def test_the_exported_document_has_the_fields_and_only_the_readers_company(
    session: Session,
    two,  # type: ignore[no-untyped-def]
) -> None:
    a, admin_a, b, _ = two
    incident = register.create(session, OPERATOR, fields(), [a.id, b.id])
    part = register.company_part(session, OPERATOR, incident, a.id)
    assessment.decide(session, admin_of(admin_a), part, Decision("no_report", REASONING))
    _, full = register_export.export(session, OPERATOR, incident.id)
    for text in (
        "Intrång i växelns webbtjänst",
        "samtalslistor",
        "12000",
        a.name,
        b.name,
        "Rapporteras inte till IMY",
        REASONING,
        "24 h",
    ):
        assert text in full
    _, own = register_export.export(session, admin_of(admin_a), incident.id)
    assert a.name in own and b.name not in own
    exports = session.scalars(select(AuditEvent).where(AuditEvent.action == "incident.export"))
    assert len(list(exports)) == 2


def test_updates_are_audited_with_old_and_new(session: Session, two) -> None:  # type: ignore[no-untyped-def]
    a, *_ = two
    incident = register.create(session, OPERATOR, fields(), [a.id])
    same = fields(
        discovered_at=incident.discovered_at, severity="high", measures="Lösenord återställda"
    )
    register.update(session, OPERATOR, incident, same)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "incident.update"))
    assert event is not None
    assert event.old == {"severity": "medium", "measures": ""}
    assert event.new == {"severity": "high", "measures": "Lösenord återställda"}
