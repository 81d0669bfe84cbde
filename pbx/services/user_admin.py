"""A company admin edits a user: name, extension, mobile and role (SECURITY.md 18).

Creating accounts, suspending them and resetting passwords belong to the accounts service;
this module only changes what the switchboard knows about a person.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pbx import identifiers
from pbx.errors import PermissionDenied, ValidationError
from pbx.services import audit
from pbx.services.actor import Actor
from pbx.services.users import mobile_number
from storage.models import ForwardingRule, User, VoicemailBox

TENANT_ROLES = ("company_admin", "user")


def update_user(
    session: Session,
    actor: Actor,
    user: User,
    *,
    name: str,
    extension: str,
    mobile: str,
    role: str,
) -> User:
    """Change a user's details; every changed field is audited old → new.

    A new extension carries the forwarding rules that pointed at the old one with it, so
    colleagues who forward to this person keep reaching them.
    """
    _check(session, actor, user, role)
    new = {
        "name": identifiers.name(name),
        "extension": _extension(session, user, extension),
        "mobile": mobile_number(mobile) if mobile.strip() else None,
        "role": role,
    }
    old = {key: getattr(user, key) for key in new}
    changed = sorted(key for key in new if new[key] != old[key])
    if changed:
        _apply(session, actor, user, {k: old[k] for k in changed}, {k: new[k] for k in changed})
    return user


def _apply(
    session: Session, actor: Actor, user: User, old: dict[str, Any], new: dict[str, Any]
) -> None:
    followed = 0
    if "extension" in new and old["extension"]:
        followed = _follow_extension(session, user, old["extension"], new["extension"])
    for key, value in new.items():
        setattr(user, key, value)
    if user.extension and session.scalar(_box(user)) is None:
        session.add(VoicemailBox(user_id=user.id))
    session.flush()
    detail = {"forwarding_followed": followed} if followed else {}
    audit.record(
        session,
        actor,
        "user.update",
        tenant_id=user.tenant_id,
        target=("user", user.id),
        old=old,
        new=new | detail,
    )


def _box(user: User) -> Any:
    return select(VoicemailBox.id).where(VoicemailBox.user_id == user.id)


def _check(session: Session, actor: Actor, user: User, role: str) -> None:
    if user.tenant_id is None or not actor.can_manage_tenant(user.tenant_id):
        raise PermissionDenied("not an administrator of this company")
    if role not in TENANT_ROLES:
        raise ValidationError("role", "role must be company administrator or user")
    if user.role == "company_admin" and role != "company_admin" and _admins(session, user) <= 1:
        raise ValidationError(
            "role", "the company needs at least one active administrator", code="last_admin"
        )


def _admins(session: Session, user: User) -> int:
    stmt = select(func.count(User.id)).where(
        User.tenant_id == user.tenant_id, User.role == "company_admin", User.status == "active"
    )
    return session.scalar(stmt) or 0


def _extension(session: Session, user: User, text: str) -> str | None:
    if not text.strip():
        if user.extension:
            raise ValidationError(
                "extension", "an extension cannot be removed; suspend the user instead"
            )
        return None
    value = identifiers.extension(text)
    taken = select(User.id).where(
        User.tenant_id == user.tenant_id, User.extension == value, User.id != user.id
    )
    if session.scalar(taken) is not None:
        raise ValidationError(
            "extension", f"extension {value} is already taken in this company", code="taken"
        )
    return value


def _follow_extension(session: Session, user: User, old: str, new: str | None) -> int:
    colleagues = select(User.id).where(User.tenant_id == user.tenant_id)
    result = session.execute(
        update(ForwardingRule)
        .where(
            ForwardingRule.destination_kind == "extension",
            ForwardingRule.destination == old,
            ForwardingRule.user_id.in_(colleagues),
        )
        .values(destination=new)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)
