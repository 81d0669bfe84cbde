"""What the scan found lost, kept in the audit log, so the recovery dashboard keeps counting
after a restore even when no incident baseline was taken first (issue 16 item 3).

A missing-only restore writes the lost bytes back without a new version: afterwards nothing
in the media itself says they were ever gone. So right before a restore (and when the demo
plays the fault) the company's missing items are recorded once, as an append-only audit
event; the dashboard counts from those records plus whatever is missing now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.incident.recovery import baseline
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.blobs import BlobStore
from storage.models import AuditEvent, Tenant

ACTION = "media.loss_recorded"
Item = dict[str, Any]


def _key(item: Item) -> tuple[str, int]:
    return str(item["owner"]), int(item["owner_id"])


def recorded(session: Session, tenant_id: int, since: datetime) -> dict[tuple[str, int], Item]:
    """Every lost item recorded for the company since `since`."""
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == ACTION, AuditEvent.tenant_id == tenant_id)
        .where(AuditEvent.occurred_at >= since)
        .order_by(AuditEvent.id)
    )
    found: dict[tuple[str, int], Item] = {}
    for event in events:
        items = (event.new or {}).get("items", [])
        for item in items if isinstance(items, list) else []:
            found[_key(item)] = dict(item)
    return found


def record_losses(
    session: Session, blobs: BlobStore, actor: Actor, tenant: Tenant, since: datetime
) -> int:
    """Record what is missing now and not yet recorded since `since`; how many were new."""
    known = recorded(session, tenant.id, since)
    new = [i for i in baseline(session, blobs, tenant)["items"] if _key(i) not in known]
    if new:
        audit.record(
            session, actor, ACTION, tenant_id=tenant.id, target=("tenant", tenant.id),
            new={"items": new},
        )  # fmt: skip
    return len(new)


def lost_since(
    session: Session, blobs: BlobStore, tenant: Tenant, since: datetime
) -> list[Item] | None:
    """The recorded items plus what is missing now; None when nothing was recorded (the
    dashboard then counts from what it can see)."""
    known = recorded(session, tenant.id, since)
    if not known:
        return None
    for item in baseline(session, blobs, tenant)["items"]:
        known.setdefault(_key(item), item)
    return list(known.values())
