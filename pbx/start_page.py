"""What matters now, per role (issue 16 item 4): the facts the start page shows.

A company admin: what is missing or risky in the company and what is due; a user: their own
greeting, new voicemail and forwarding; the operator: alerts, open incidents with their
deadlines, companies with missing media, restore drills overdue. Reads only.

It sits above the services and the incident package (it reads from both), beside them in
`pbx` rather than inside `pbx.services`, which may not import `pbx.incident`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pbx.incident.assessment import Deadline, company_deadline, pts_deadline
from pbx.services.backups.drill_results import drill_status
from pbx.services.library.scan import slot_statuses
from pbx.services.library.slots import audio_status
from storage.blobs import BlobStore
from storage.models import (
    ForwardingBlock,
    ForwardingRule,
    FraudAlert,
    Incident,
    IncidentCompany,
    MessageSlot,
    Tenant,
    User,
    VoicemailBox,
    VoicemailMessage,
    utcnow,
)

DRILL_EVERY = timedelta(days=90)


@dataclass(frozen=True)
class DecisionDue:
    incident_id: int
    title: str
    deadline: Deadline


@dataclass(frozen=True)
class BlockedForwarding:
    """A user whose outside forwarding is suspended (a fraud cap or the containment)."""

    user_id: int
    name: str
    since: datetime
    reason: str  # the stored reason; the site says it in words


@dataclass(frozen=True)
class CompanyFacts:
    missing_messages: int
    external_forwardings: int
    open_alerts: int
    users_without_totp: int
    decisions_due: list[DecisionDue]
    blocked: list[BlockedForwarding] = field(default_factory=list)


@dataclass(frozen=True)
class UserFacts:
    greeting: str  # "ok", "missing", "corrupt" or "default" (no personal greeting)
    new_voicemail: int
    forwardings: list[ForwardingRule]


@dataclass(frozen=True)
class OperatorFacts:
    open_alerts: int
    incidents: list[tuple[Incident, Deadline]]
    companies_missing_media: list[tuple[Tenant, int]]
    drills_overdue: list[str]


def company_facts(session: Session, blobs: BlobStore, tenant_id: int) -> CompanyFacts:
    statuses = slot_statuses(session, blobs, tenant_id)
    users = select(User.id).where(User.tenant_id == tenant_id)
    external = select(func.count(ForwardingRule.id)).where(
        ForwardingRule.user_id.in_(users),
        ForwardingRule.destination_kind == "external",
        ForwardingRule.active.is_(True),
    )
    alerts = select(func.count(FraudAlert.id)).where(
        FraudAlert.tenant_id == tenant_id, FraudAlert.status == "open"
    )
    no_totp = select(func.count(User.id)).where(
        User.tenant_id == tenant_id, User.status == "active", User.totp_secret_enc.is_(None)
    )
    parts = session.execute(
        select(IncidentCompany, Incident.title)
        .join(Incident, Incident.id == IncidentCompany.incident_id)
        .where(IncidentCompany.tenant_id == tenant_id, IncidentCompany.decision == "pending")
    )
    due = [DecisionDue(p.incident_id, title, company_deadline(p)) for p, title in parts]
    return CompanyFacts(
        sum(1 for s in statuses.values() if s != "ok"),
        session.scalar(external) or 0,
        session.scalar(alerts) or 0,
        session.scalar(no_totp) or 0,
        sorted(due, key=lambda d: d.deadline.due),
        blocked_forwarding(session, tenant_id),
    )


def blocked_forwarding(session: Session, tenant_id: int) -> list[BlockedForwarding]:
    """The company's users whose outside forwarding is suspended now, oldest first."""
    rows = session.execute(
        select(ForwardingBlock, User.name)
        .join(User, User.id == ForwardingBlock.user_id)
        .where(ForwardingBlock.tenant_id == tenant_id, ForwardingBlock.lifted_at.is_(None))
        .order_by(ForwardingBlock.created_at, ForwardingBlock.id)
    )
    return [BlockedForwarding(b.user_id, name, b.created_at, b.reason) for b, name in rows]


def user_facts(session: Session, blobs: BlobStore, user_id: int) -> UserFacts:
    box = session.scalar(select(VoicemailBox).where(VoicemailBox.user_id == user_id))
    greeting = "default"
    new = 0
    if box is not None:
        slot = session.get(MessageSlot, box.greeting_slot_id) if box.greeting_slot_id else None
        if slot is not None and slot.deleted_at is None:
            greeting = audio_status(session, blobs, slot)
        new = (
            session.scalar(
                select(func.count(VoicemailMessage.id)).where(
                    VoicemailMessage.box_id == box.id,
                    VoicemailMessage.heard.is_(False),
                    VoicemailMessage.deleted_at.is_(None),
                )
            )
            or 0
        )
    rules = session.scalars(
        select(ForwardingRule)
        .where(ForwardingRule.user_id == user_id, ForwardingRule.active.is_(True))
        .order_by(ForwardingRule.kind)
    )
    return UserFacts(greeting, new, list(rules))


def operator_facts(
    session: Session, blobs: BlobStore, now: datetime | None = None
) -> OperatorFacts:
    now = now or utcnow()
    alerts = (
        session.scalar(select(func.count(FraudAlert.id)).where(FraudAlert.status == "open")) or 0
    )
    incidents = session.scalars(
        select(Incident).where(Incident.closed_at.is_(None)).order_by(Incident.discovered_at)
    )
    missing: list[tuple[Tenant, int]] = []
    for tenant in session.scalars(select(Tenant).order_by(Tenant.name)):
        count = sum(1 for s in slot_statuses(session, blobs, tenant.id).values() if s != "ok")
        if count:
            missing.append((tenant, count))
    overdue = [
        row.tenant_name
        for row in drill_status(session)
        if row.last is None or now - row.last.drilled_at > DRILL_EVERY
    ]
    return OperatorFacts(alerts, [(i, pts_deadline(i, now)) for i in incidents], missing, overdue)
