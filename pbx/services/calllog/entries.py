"""Writing and reading the call log (samtalslista)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from storage.models import CallLogEntry

COLUMNS = (
    "call_id",
    "leg",
    "tenant_id",
    "user_id",
    "caller",
    "callee",
    "direction",
    "started_at",
    "answered_at",
    "ended_at",
    "disposition",
    "forwarded_to",
    "refused_reason",
)


def write_entries(session: Session, rows: Iterable[Mapping[str, Any]]) -> int:
    """Bulk-insert legs (dicts with COLUMNS keys) in the caller's transaction."""
    batch = [{key: row.get(key) for key in COLUMNS} for row in rows]
    if batch:
        session.execute(insert(CallLogEntry), batch)
    return len(batch)


def entries_for_call(session: Session, call_id: str) -> list[CallLogEntry]:
    stmt = select(CallLogEntry).where(CallLogEntry.call_id == call_id).order_by(CallLogEntry.leg)
    return list(session.scalars(stmt))
