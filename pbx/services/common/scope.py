"""Tenant scoping in one place: every load of a tenant's object goes through here, so a
company admin of A asking for an object of B gets NotFound (a 404), never the object; and an
operator asking for a user's received voicemail or personal greeting gets NotFound too."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import NotFound
from pbx.services.common.actor import Actor
from storage.models import (
    CallLogEntry,
    ForwardingRule,
    IvrMenu,
    IvrOption,
    MediaVersion,
    MessageSlot,
    PhoneNumber,
    ProfilePicture,
    Queue,
    QueueMember,
    Tenant,
    User,
    VoicemailBox,
    VoicemailMessage,
)

T = TypeVar("T")

# How to reach the owning tenant from each model: a chain of (model, foreign key column).
_OWNER_PATHS: dict[type[Any], list[Any]] = {
    Tenant: [],
    User: [],
    PhoneNumber: [],
    IvrMenu: [],
    Queue: [],
    MessageSlot: [],
    CallLogEntry: [],
    IvrOption: [IvrOption.menu_id, IvrMenu],
    QueueMember: [QueueMember.queue_id, Queue],
    ForwardingRule: [ForwardingRule.user_id, User],
    MediaVersion: [MediaVersion.slot_id, MessageSlot],
    VoicemailBox: [VoicemailBox.user_id, User],
    VoicemailMessage: [VoicemailMessage.box_id, VoicemailBox, VoicemailBox.user_id, User],
    ProfilePicture: [ProfilePicture.user_id, User],
}


def tenant_of(session: Session, obj: object) -> int | None:
    """The tenant an object belongs to (None for operators' own rows)."""
    path = _OWNER_PATHS.get(type(obj))
    if path is None:
        raise TypeError(f"no tenant path for {type(obj).__name__}")
    if isinstance(obj, Tenant):
        return obj.id
    current: Any = obj
    for column, model in zip(path[0::2], path[1::2], strict=True):
        current = session.get(model, getattr(current, column.key))
    tenant_id: int | None = current.tenant_id
    return tenant_id


def get_scoped(session: Session, actor: Actor, model: type[T], object_id: object) -> T:
    """Load `model` by id, visible only to operators and to the owning tenant's admins.

    Users see only their own user row (and what hangs off it); anything else is NotFound.
    """
    obj = session.get(model, object_id) if _is_int_like(object_id) else None
    if obj is None or not _visible(session, actor, obj):
        raise NotFound(f"{model.__name__} {object_id} not found")
    return obj


def get_in_tenant(
    session: Session, actor: Actor, model: type[T], object_id: object, tenant_id: int
) -> T:
    """`get_scoped`, and the object belongs to `tenant_id` (the company being administered:
    an operator sees every company's objects, but edits one company at a time)."""
    obj = get_scoped(session, actor, model, object_id)
    if tenant_of(session, obj) != tenant_id:
        raise NotFound(f"{model.__name__} {object_id} not found")
    return obj


MAX_ID = 2**63 - 1  # ids are signed 64-bit columns: a larger one is no row (not an error)


def _is_int_like(value: object) -> bool:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def _visible(session: Session, actor: Actor, obj: object) -> bool:
    if actor.is_operator:
        # The provider's staff administer companies, not people's mailboxes: received
        # voicemail and personal greetings are the users' own data, so to an operator they
        # are NotFound like another company's object (README, security model).
        # (The system actor of the command line and restores is not staff browsing.)
        return actor.role == "system" or not _users_own_audio(session, obj)
    if actor.tenant_id is None or tenant_of(session, obj) != actor.tenant_id:
        return False
    if actor.role == "company_admin":
        return True
    return _owned_by_user(session, actor, obj)


def _users_own_audio(session: Session, obj: object) -> bool:
    """A received voicemail message, or a personal greeting (its slot or one of its versions)."""
    if isinstance(obj, VoicemailMessage):
        return True
    if isinstance(obj, MediaVersion):
        slot = session.get(MessageSlot, obj.slot_id)
        return slot is not None and slot.kind == "greeting"
    return isinstance(obj, MessageSlot) and obj.kind == "greeting"


def _owned_by_user(session: Session, actor: Actor, obj: object) -> bool:
    if isinstance(obj, User):
        return obj.id == actor.user_id
    user_id = getattr(obj, "user_id", None)
    if isinstance(obj, VoicemailMessage):
        user_id = session.get(VoicemailBox, obj.box_id).user_id  # type: ignore[union-attr]
    if isinstance(obj, MediaVersion):
        obj = session.get(MessageSlot, obj.slot_id)
    if isinstance(obj, MessageSlot):
        user_id = _greeting_owner(session, obj)
    return user_id is not None and user_id == actor.user_id


def _greeting_owner(session: Session, slot: MessageSlot) -> int | None:
    """A user reaches a message slot only when it is their own voicemail greeting."""
    if slot.kind != "greeting":
        return None
    stmt = select(VoicemailBox.user_id).where(VoicemailBox.greeting_slot_id == slot.id)
    return session.scalar(stmt)


def tenant_by_slug(session: Session, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound(f"no company with the short name {slug!r}")
    return tenant
