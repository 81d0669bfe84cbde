"""Call-log entries (Samtalslista): one row per leg of a call."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime

DIRECTIONS = ("inbound", "outbound", "internal", "forwarded")
DISPOSITIONS = ("answered", "no_answer", "busy", "voicemail", "refused", "abandoned", "failed")


class CallLogEntry(Base):
    __tablename__ = "call_log"
    __table_args__ = (
        Index("ix_call_log_tenant_started", "tenant_id", "started_at"),
        Index("ix_call_log_started_caller", "started_at", "caller"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(36), index=True)
    leg: Mapped[int] = mapped_column(Integer, default=0)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    caller: Mapped[str] = mapped_column(String(16))
    callee: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime)
    disposition: Mapped[str] = mapped_column(String(10))
    forwarded_to: Mapped[str | None] = mapped_column(String(16))
    refused_reason: Mapped[str | None] = mapped_column(String(40))
    # The queue (queues.id) a leg rang from; no foreign key: a queue's statistics outlive it.
    queue_id: Mapped[int | None] = mapped_column(Integer)
