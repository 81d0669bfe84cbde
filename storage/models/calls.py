"""Calls in progress with a person at the other end: the record-by-phone callback ("Spela in
filen") and the voicemail service number 333, answered on the browser softphone or by
`pbx callback answer`.

A row holds the engine's call state between the phone's requests (so any web worker can take
the next one) and what the phone must do next. Takes (recordings not yet stored as a message
version) live in `live_call_takes` only until the call ends: they are then stored or dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime, utcnow


class LiveCall(Base):
    __tablename__ = "live_calls"

    # An unguessable token: the phone and the CLI name the call by it.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "callback" or "service"
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("message_slots.id"))
    number: Mapped[str] = mapped_column(String(16))  # the phone's number (E.164 or extension)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    steps: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10))  # "ringing", "active", "ended"
    outcome: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LiveCallTake(Base):
    __tablename__ = "live_call_takes"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("live_calls.id"), index=True)
    take: Mapped[int] = mapped_column(Integer)
    master: Mapped[bytes] = mapped_column(LargeBinary)
    original: Mapped[bytes] = mapped_column(LargeBinary)
    duration_ms: Mapped[int] = mapped_column(Integer)
