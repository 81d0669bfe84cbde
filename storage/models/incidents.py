"""Incident response: fraud alerts, forwarding blocks, and the incident register.

- `FraudAlert`: one rule hit of the fraud scan (`pbx.policies.fraud_rules`), kept once per rule,
  subject and time bucket (`dedupe_key`), with the figure, the threshold it crossed and
  whether it was above the hard cap (which contains the account automatically).
- `ForwardingBlock`: an account whose outside forwarding is suspended by containment, with
  the rules it switched off (so lifting the block switches exactly those back on).
- `Incident` / `IncidentCompany`: the register of personal-data and integrity incidents
  (GDPR Art. 33/34, the Electronic Communications Act; fields after IMY's form, see
  SECURITY.md 25) and each affected company's own assessment and decision.

The call-log indexes serve the incident queries: the affected-caller query reads
(tenant_id, started_at, caller) from the index alone, and the fraud scan reads a day's
forwarded legs through a partial index that holds nothing else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime, utcnow
from storage.models.calllog import CallLogEntry

ALERT_STATUSES = ("open", "contained", "dismissed")
DECISIONS = ("pending", "report", "no_report")


class FraudAlert(Base):
    __tablename__ = "fraud_alerts"
    __table_args__ = (Index("ix_fraud_alerts_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(40))
    hard_cap: Mapped[bool] = mapped_column(default=False)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime)
    window_end: Mapped[datetime] = mapped_column(UtcDateTime)
    value: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # rule:tenant:user:bucket — a rescan of the same history raises nothing twice.
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    handled_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_note: Mapped[str] = mapped_column(Text, default="")


class ForwardingBlock(Base):
    __tablename__ = "forwarding_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("fraud_alerts.id"))
    reason: Mapped[str] = mapped_column(String(300))
    # Forwarding kinds this block switched off (lifting switches exactly these back on).
    rules_off: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lifted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Incident(Base):
    """One incident as the operator records it (IMY's form, PTS's initial report)."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # confidentiality (disclosure/access), integrity (alteration), availability (loss)
    nature: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    discovered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    data_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    approx_subjects: Mapped[int | None] = mapped_column(Integer)
    approx_records: Mapped[int | None] = mapped_column(Integer)
    consequences: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(10), default="medium")
    measures: Mapped[str] = mapped_column(Text, default="")
    subjects_informed: Mapped[str] = mapped_column(String(20), default="no")
    subjects_informed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    subjects_informed_how: Mapped[str] = mapped_column(Text, default="")
    pts_reportable: Mapped[bool] = mapped_column(default=True)
    pts_reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    pts_reference: Mapped[str] = mapped_column(String(60), default="")
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class IncidentCompany(Base):
    """An affected company: told when (its 72-hour clock), its assessment and decision."""

    __tablename__ = "incident_companies"
    __table_args__ = (UniqueConstraint("incident_id", "tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    notified_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    assessment: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str] = mapped_column(String(12), default="pending")
    reasoning: Mapped[str] = mapped_column(Text, default="")
    imy_reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    imy_reference: Mapped[str] = mapped_column(String(60), default="")
    subjects_informed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Media loss: what the scan found missing when the incident was recorded
    # ({"scanned_at": ..., "items": [...]}), the recovery dashboard's starting point.
    media_baseline: Mapped[dict[str, Any] | None] = mapped_column(JSON)


_calls = CallLogEntry.__table__.c
CALL_LOG_INCIDENT_INDEXES = (
    # Affected callers: a company's window, callers read from the index alone.
    Index("ix_call_log_tenant_started_caller", _calls.tenant_id, _calls.started_at, _calls.caller),
    # Fraud scan: only forwarded legs, by time.
    Index(
        "ix_call_log_forwarded_started",
        _calls.started_at,
        sqlite_where=text("direction = 'forwarded'"),
        postgresql_where=text("direction = 'forwarded'"),
    ),
)
