"""The append-only, hash-chained audit log (SECURITY.md 23).

Each entry's hash covers its fields and the previous entry's hash, so changing or removing
any entry breaks verification from that point on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from pbx.services.common.actor import Actor
from storage.models import AuditEvent, utcnow

GENESIS = "0" * 64
# Keys whose values never reach the log, whatever a caller passes.
SECRET_KEYS = frozenset({"password", "password_hash", "totp_secret", "totp_secret_enc", "token"})


def _clean(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: ("[redacted]" if k in SECRET_KEYS else v) for k, v in values.items()}


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _hashed_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "occurred_at": event.occurred_at.isoformat(),
        "actor_user_id": event.actor_user_id,
        "actor_label": event.actor_label,
        "tenant_id": event.tenant_id,
        "ip": event.ip,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "old": event.old,
        "new": event.new,
    }


def _last_hash(session: Session) -> str:
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appenders so two transactions never chain onto the same entry.
        session.execute(text("SELECT pg_advisory_xact_lock(7426001)"))
    last = session.scalar(select(AuditEvent.entry_hash).order_by(AuditEvent.id.desc()).limit(1))
    return last or GENESIS


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    tenant_id: int | None = None,
    target: tuple[str, object] | None = None,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction."""
    event = AuditEvent(
        occurred_at=(at or utcnow()).replace(microsecond=0),
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        tenant_id=tenant_id if tenant_id is not None else actor.tenant_id,
        ip=actor.ip,
        action=action,
        target_type=target[0] if target else "",
        target_id=str(target[1]) if target else "",
        old=_clean(old),
        new=_clean(new),
    )
    event.prev_hash = _last_hash(session)
    event.entry_hash = entry_hash(event.prev_hash, _hashed_fields(event))
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class Entry:
    """One event for `record_many`."""

    action: str
    tenant_id: int | None = None
    target: tuple[str, object] | None = None
    old: Mapping[str, Any] | None = None
    new: Mapping[str, Any] | None = None


def record_many(
    session: Session, actor: Actor, entries: list[Entry], *, at: datetime | None = None
) -> None:
    """Append many events by one actor at once (bulk operations such as the mass password
    reset): one lock and one read of the chain's end instead of one per event."""
    occurred = (at or utcnow()).replace(microsecond=0)
    prev = _last_hash(session)
    for entry in entries:
        event = AuditEvent(
            occurred_at=occurred,
            actor_user_id=actor.user_id,
            actor_label=actor.label,
            tenant_id=entry.tenant_id,
            ip=actor.ip,
            action=entry.action,
            target_type=entry.target[0] if entry.target else "",
            target_id=str(entry.target[1]) if entry.target else "",
            old=_clean(entry.old),
            new=_clean(entry.new),
            prev_hash=prev,
        )
        event.entry_hash = prev = entry_hash(prev, _hashed_fields(event))
        session.add(event)
    session.flush()


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    problem: str


def verify_chain(session: Session) -> list[ChainProblem]:
    """Walk the whole log in id order; report every entry whose link or hash is wrong."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    for event in _iter_events(session):
        if event.prev_hash != prev:
            problems.append(ChainProblem(event.id, "previous entry changed or removed"))
        if entry_hash(event.prev_hash, _hashed_fields(event)) != event.entry_hash:
            problems.append(ChainProblem(event.id, "entry changed"))
        prev = event.entry_hash
    return problems


def _iter_events(session: Session) -> Iterator[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)
    yield from session.scalars(stmt)
