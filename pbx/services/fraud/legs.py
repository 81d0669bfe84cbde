"""Forwarded legs of the call log, as the fraud rules count them (`pbx.policies.fraud_rules`).

Used by the call-time fraud guard (`pbx.services.fraud.guard`) and by the operator's fraud
scan (`pbx.incident.history`). One query over the partial index `ix_call_log_forwarded_started`
(the literal `'forwarded'` lets SQLite match the index's condition).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from pbx.policies.fraud_rules import Leg
from storage.models import CallLogEntry

FORWARDED: ColumnElement[str] = literal_column("'forwarded'")


def utc(value: object) -> datetime:
    """A raw stored time as an aware UTC datetime (SQLite keeps naive UTC text)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value + "+00:00")
    if not isinstance(value, datetime):
        raise TypeError(f"not a stored time: {value!r}")
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def forwarded_legs(
    session: Session, since: datetime, until: datetime, tenant_id: int | None = None
) -> list[Leg]:
    """Forwarded legs started in [since, until); connected seconds worked out by the
    database, the start time parsed once (a day of traffic is hundreds of thousands)."""
    c = CallLogEntry
    started = type_coerce(c.started_at, NullType())
    stmt = select(
        c.tenant_id, c.user_id, c.callee, started, connected_seconds(session), c.disposition
    ).where(c.direction == FORWARDED, c.started_at >= since, c.started_at < until)
    if tenant_id is not None:
        stmt = stmt.where(c.tenant_id == tenant_id)
    return [
        Leg(tenant, user, callee, utc(began), float(seconds or 0), disposition == "refused")
        for tenant, user, callee, began, seconds, disposition in session.execute(stmt)
    ]


def connected_seconds(session: Session) -> ColumnElement[Any]:
    c = CallLogEntry
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", c.ended_at - c.answered_at)
    return (func.julianday(c.ended_at) - func.julianday(c.answered_at)) * 86400.0
