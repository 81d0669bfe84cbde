"""Loading the fraud rules' records from the call log and the audit log.

Each loader is one query over an index: forwarded legs through `pbx.services.fraud.legs`
(shared with the call-time fraud guard), audit events through `ix_audit_events_occurred_at`
/ `action`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.policies.fraud_rules import Change, Leg, Login, Sighting
from pbx.policies.fraud_thresholds import Thresholds
from pbx.services.fraud.legs import forwarded_legs
from storage.models import AuditEvent, Tenant

LOGIN_ACTIONS = ("login.failed", "login.success")


@dataclass(frozen=True)
class History:
    legs: list[Leg]
    changes: list[Change]
    logins: list[Login]
    sightings: list[Sighting]
    home_regions: dict[int, str]


def load(session: Session, since: datetime, until: datetime, t: Thresholds) -> History:
    """Everything the rules need for [since, until)."""
    changes = forwarding_changes(session, since - timedelta(hours=t.change_follow_hours), until)
    return History(
        legs=forwarded_legs(session, since, until),
        changes=changes,
        logins=logins(session, since - timedelta(hours=t.failed_login_window_hours), until),
        sightings=sightings(session, changes, t, until),
        home_regions={k: v for k, v in session.execute(select(Tenant.id, Tenant.home_region))},
    )


def forwarding_changes(session: Session, since: datetime, until: datetime) -> list[Change]:
    stmt = (
        select(AuditEvent)
        .where(
            AuditEvent.action == "forwarding.set",
            AuditEvent.occurred_at >= since,
            AuditEvent.occurred_at < until,
        )
        .order_by(AuditEvent.id)
    )
    return [_change(e) for e in session.scalars(stmt) if e.tenant_id and e.target_id.isdigit()]


def _change(event: AuditEvent) -> Change:
    new = event.new or {}
    return Change(
        event_id=event.id,
        tenant_id=event.tenant_id or 0,
        user_id=int(event.target_id),
        actor_user_id=event.actor_user_id,
        at=event.occurred_at,
        ip=event.ip,
        kind=str(new.get("kind", "")),
        destination=str(new["destination"]) if new.get("destination") else None,
    )


def logins(session: Session, since: datetime, until: datetime) -> list[Login]:
    stmt = select(
        AuditEvent.id,
        AuditEvent.tenant_id,
        AuditEvent.target_id,
        AuditEvent.occurred_at,
        AuditEvent.action,
        AuditEvent.ip,
    ).where(
        AuditEvent.action.in_(LOGIN_ACTIONS),
        AuditEvent.occurred_at >= since,
        AuditEvent.occurred_at < until,
        AuditEvent.target_type == "user",
    )
    return [
        Login(event_id, tenant, int(target), at, action == "login.success", ip)
        for event_id, tenant, target, at, action, ip in session.execute(stmt)
        if target.isdigit()
    ]


def sightings(
    session: Session, changes: Sequence[Change], t: Thresholds, until: datetime
) -> list[Sighting]:
    """Successful logins of the people who made `changes`, over the lookback."""
    people = sorted({str(c.actor_user_id) for c in changes if c.actor_user_id is not None})
    if not people:
        return []
    since = min(c.at for c in changes) - timedelta(days=t.new_ip_lookback_days)
    found: list[Sighting] = []
    for chunk in _chunks(people, 500):
        stmt = select(AuditEvent.target_id, AuditEvent.occurred_at, AuditEvent.ip).where(
            AuditEvent.action == "login.success",
            AuditEvent.target_type == "user",
            AuditEvent.target_id.in_(chunk),
            AuditEvent.occurred_at >= since,
            AuditEvent.occurred_at < until,
            AuditEvent.ip.is_not(None),
        )
        found += [Sighting(int(u), at, ip) for u, at, ip in session.execute(stmt) if ip]
    return found


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
