"""Reading the audit log: operators see every entry, a company admin their company's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import PermissionDenied
from pbx.services.common.actor import Actor
from storage.models import AuditEvent

PAGE_SIZE = 100


def list_events(
    session: Session,
    actor: Actor,
    *,
    before_id: int | None = None,
    action_prefix: str = "",
    limit: int = PAGE_SIZE,
) -> list[AuditEvent]:
    """Newest first, `limit` entries older than `before_id` (for paging)."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(max(1, min(limit, 500)))
    if actor.is_operator:
        pass
    elif actor.role == "company_admin" and actor.tenant_id is not None:
        stmt = stmt.where(AuditEvent.tenant_id == actor.tenant_id)
    else:
        raise PermissionDenied("only administrators read the audit log")
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    if action_prefix:
        stmt = stmt.where(AuditEvent.action.startswith(action_prefix, autoescape=True))
    return list(session.scalars(stmt))
