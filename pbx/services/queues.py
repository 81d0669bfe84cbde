"""Queues (köer): members, a queue message, maximum wait and the overflow destination."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx import identifiers
from pbx.errors import PermissionDenied, ValidationError
from pbx.services import audit
from pbx.services.actor import Actor
from pbx.services.slots import require_slot
from pbx.services.targets import Target, store_target, validate_target
from storage.models import Queue, QueueMember, Tenant, User

HANGUP = Target("hangup")


def create_queue(
    session: Session,
    actor: Actor,
    tenant: Tenant,
    *,
    name: str,
    message_slot_id: int | None,
    members: list[int],
    max_wait_seconds: int = 120,
    overflow: Target = HANGUP,
) -> Queue:
    if not actor.can_manage_tenant(tenant.id):
        raise PermissionDenied("not an administrator of this company")
    if not 10 <= max_wait_seconds <= 3600:
        raise ValidationError("max_wait_seconds", "maximum wait must be 10–3600 seconds")
    if message_slot_id is not None:
        require_slot(session, tenant, message_slot_id, "message_slot_id")
    queue = Queue(
        tenant_id=tenant.id,
        name=identifiers.name(name, max_length=100),
        message_slot_id=message_slot_id,
        max_wait_seconds=max_wait_seconds,
    )
    store_target(queue, "overflow", validate_target(session, tenant, overflow, "overflow"))
    session.add(queue)
    session.flush()
    set_members(session, tenant, queue, members)
    audit.record(
        session,
        actor,
        "queue.create",
        tenant_id=tenant.id,
        target=("queue", queue.id),
        new={"name": queue.name, "members": members, "overflow": overflow.describe()},
    )
    return queue


def set_members(session: Session, tenant: Tenant, queue: Queue, user_ids: list[int]) -> None:
    if len(set(user_ids)) != len(user_ids):
        raise ValidationError("members", "a member is listed twice")
    for user_id in user_ids:
        user = session.get(User, user_id)
        if user is None or user.tenant_id != tenant.id or not user.extension:
            raise ValidationError("members", f"no extension user {user_id} in this company")
    for member in members_of(session, queue.id):
        session.delete(member)
    session.flush()
    for position, user_id in enumerate(user_ids):
        session.add(QueueMember(queue_id=queue.id, user_id=user_id, position=position))
    session.flush()


def members_of(session: Session, queue_id: int) -> list[QueueMember]:
    stmt = (
        select(QueueMember).where(QueueMember.queue_id == queue_id).order_by(QueueMember.position)
    )
    return list(session.scalars(stmt))


def list_queues(session: Session, tenant_id: int) -> list[Queue]:
    return list(
        session.scalars(select(Queue).where(Queue.tenant_id == tenant_id).order_by(Queue.name))
    )
