"""Editing a queue (kö) from the site: name, queue message, members, maximum wait, overflow.

The same rules as `pbx.services.queues.create_queue`; one audit entry with what changed.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from pbx import identifiers
from pbx.errors import PermissionDenied, ValidationError
from pbx.services import audit, queues
from pbx.services.actor import Actor
from pbx.services.slots import require_slot
from pbx.services.targets import Target, load_target, store_target, validate_target
from storage.models import Queue, Tenant

MAX_WAIT_RANGE = (10, 3600)


def update_queue(
    session: Session,
    actor: Actor,
    tenant: Tenant,
    queue: Queue,
    *,
    name: str,
    message_slot_id: int | None,
    members: list[int],
    max_wait_seconds: int,
    overflow: Target,
) -> Queue:
    checked = _check(session, actor, tenant, queue, message_slot_id, max_wait_seconds, overflow)
    old = _state(session, queue)
    queue.name = identifiers.name(name, max_length=100)
    queue.message_slot_id, queue.max_wait_seconds = message_slot_id, max_wait_seconds
    store_target(queue, "overflow", checked)
    queues.set_members(session, tenant, queue, members)
    new = _state(session, queue)
    if new != old:
        audit.record(
            session,
            actor,
            "queue.update",
            tenant_id=tenant.id,
            target=("queue", queue.id),
            old={k: v for k, v in old.items() if new[k] != v},
            new={k: v for k, v in new.items() if old[k] != v},
        )
    return queue


def _check(
    session: Session,
    actor: Actor,
    tenant: Tenant,
    queue: Queue,
    message_slot_id: int | None,
    max_wait_seconds: int,
    overflow: Target,
) -> Target:
    """The same rules as at creation; returns the overflow destination validated."""
    if not actor.can_manage_tenant(tenant.id) or queue.tenant_id != tenant.id:
        raise PermissionDenied("not an administrator of this company")
    low, high = MAX_WAIT_RANGE
    if not low <= max_wait_seconds <= high:
        raise ValidationError("max_wait_seconds", "maximum wait must be 10–3600 seconds")
    if message_slot_id is not None:
        require_slot(session, tenant, message_slot_id, "message_slot_id")
    if overflow.kind == "queue" and overflow.queue_id == queue.id:
        raise ValidationError("overflow", "a queue cannot overflow into itself")
    return validate_target(session, tenant, overflow, "overflow")


def _state(session: Session, queue: Queue) -> dict[str, object]:
    return {
        "name": queue.name,
        "message_slot_id": queue.message_slot_id,
        "max_wait_seconds": queue.max_wait_seconds,
        "overflow": load_target(queue, "overflow").describe(),
        "members": [m.user_id for m in queues.members_of(session, queue.id)],
    }
