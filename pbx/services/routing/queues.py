"""Queues (köer): members, a queue message, maximum wait and the overflow destination."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx import identifiers
from pbx.engine.validation import ring_group_conflict
from pbx.errors import ValidationError
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from pbx.services.library.slots import require_slot
from pbx.services.routing.targets import Target, load_target, store_target, validate_target
from storage.models import Queue, QueueMember, Tenant, User
from storage.models.routing import QUEUE_KINDS, QUEUE_STRATEGIES

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
    kind: str = "queue",
    strategy: str = "in_order",
    ring_seconds: int | None = None,
    announce_position: bool = False,
    hold_slot_id: int | None = None,
) -> Queue:
    actor.require_admin(tenant.id)
    checked = check_settings(session, tenant, None, message_slot_id, max_wait_seconds, overflow)
    _check_ringing(session, tenant, kind, strategy, ring_seconds, announce_position, hold_slot_id)
    queue = Queue(
        tenant_id=tenant.id,
        name=identifiers.name(name, max_length=100),
        message_slot_id=message_slot_id,
        max_wait_seconds=max_wait_seconds,
        kind=kind,
        strategy=strategy,
        ring_seconds=ring_seconds,
        announce_position=announce_position,
        hold_slot_id=hold_slot_id,
    )
    store_target(queue, "overflow", checked)
    session.add(queue)
    session.flush()
    set_members(session, tenant, queue, members)
    audit.record(
        session,
        actor,
        "queue.create",
        tenant_id=tenant.id,
        target=("queue", queue.id),
        new={
            "name": queue.name,
            "kind": kind,
            "strategy": strategy,
            "members": members,
            "overflow": overflow.describe(),
        },
    )
    return queue


def set_members(session: Session, tenant: Tenant, queue: Queue, user_ids: list[int]) -> None:
    if len(set(user_ids)) != len(user_ids):
        raise ValidationError("members", "a member is listed twice")
    for user_id in user_ids:
        user = session.get(User, user_id)
        if user is None or user.tenant_id != tenant.id or not user.extension:
            raise ValidationError(
                "members",
                f"no extension user {user_id} in this company",
                code="member_without_extension",
                params={"user": user_id},
            )
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


# Editing a queue (kö) from the site: name, queue message, members, maximum wait, overflow;
# and how members are rung: a queue or a ring group (ringgrupp), the strategy, the ring time,
# the caller's position announced and the message on hold (queues only).
MAX_WAIT_RANGE = (10, 3600)
RING_RANGE = (5, 300)


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
    kind: str | None = None,
    strategy: str | None = None,
    ring_seconds: int | None = None,
    announce_position: bool = False,
    hold_slot_id: int | None = None,
) -> Queue:
    """Change a queue; `kind` and `strategy` None keep what it has."""
    actor.require_admin(tenant.id, queue.tenant_id)
    checked = check_settings(session, tenant, queue, message_slot_id, max_wait_seconds, overflow)
    kind, strategy = kind or queue.kind, strategy or queue.strategy
    _check_ringing(session, tenant, kind, strategy, ring_seconds, announce_position, hold_slot_id)
    old = _state(session, queue)
    queue.name = identifiers.name(name, max_length=100)
    queue.message_slot_id, queue.max_wait_seconds = message_slot_id, max_wait_seconds
    queue.kind, queue.strategy, queue.ring_seconds = kind, strategy, ring_seconds
    queue.announce_position, queue.hold_slot_id = announce_position, hold_slot_id
    store_target(queue, "overflow", checked)
    set_members(session, tenant, queue, members)
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


def check_settings(
    session: Session,
    tenant: Tenant,
    queue: Queue | None,
    message_slot_id: int | None,
    max_wait_seconds: int,
    overflow: Target,
) -> Target:
    """The one checker of a queue's settings, for create (`queue` None) and edit; returns
    the overflow destination validated."""
    low, high = MAX_WAIT_RANGE
    if not low <= max_wait_seconds <= high:
        raise ValidationError("max_wait_seconds", "maximum wait must be 10–3600 seconds")
    if message_slot_id is not None:
        require_slot(session, tenant, message_slot_id, "message_slot_id")
    if queue is not None and overflow.kind == "queue" and overflow.queue_id == queue.id:
        raise ValidationError("overflow", "a queue cannot overflow into itself")
    return validate_target(session, tenant, overflow, "overflow")


def _check_ringing(
    session: Session,
    tenant: Tenant,
    kind: str,
    strategy: str,
    ring_seconds: int | None,
    announce_position: bool,
    hold_slot_id: int | None,
) -> None:
    if kind not in QUEUE_KINDS:
        raise ValidationError("kind", "choose a queue or a ring group")
    if strategy not in QUEUE_STRATEGIES:
        raise ValidationError("strategy", "choose how the members are rung")
    low, high = RING_RANGE
    if ring_seconds is not None and not low <= ring_seconds <= high:
        raise ValidationError("ring_seconds", "ring time must be 5–300 seconds")
    if ring_group_conflict(kind, announce_position, hold_slot_id):
        raise ValidationError(
            "kind", "a ring group announces no position and plays no message on hold"
        )
    if hold_slot_id is not None:
        require_slot(session, tenant, hold_slot_id, "hold_slot_id")


def _state(session: Session, queue: Queue) -> dict[str, object]:
    return {
        "name": queue.name,
        "kind": queue.kind,
        "strategy": queue.strategy,
        "ring_seconds": queue.ring_seconds,
        "announce_position": queue.announce_position,
        "hold_slot_id": queue.hold_slot_id,
        "message_slot_id": queue.message_slot_id,
        "max_wait_seconds": queue.max_wait_seconds,
        "overflow": load_target(queue, "overflow").describe(),
        "members": [m.user_id for m in members_of(session, queue.id)],
    }
