"""Do not disturb (stör ej): a user switches it on the site or by keying *76 from their own
phone; calls then treat them as busy (their busy forwarding applies, queues pass them over).
Company admins see who is on do-not-disturb and may switch it off for them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.models import User


def set_dnd(session: Session, actor: Actor, user: User, dnd: bool, *, via: str = "site") -> User:
    """Switch `user`'s do-not-disturb; the user themself, their company's admins, operators
    and the system (the *76 code, checked by the engine) may. Audited when it changes."""
    actor.require_self_or_admin(user.id, user.tenant_id)
    if user.dnd == dnd:
        return user
    user.dnd = dnd
    session.flush()
    audit.record(
        session, actor, "user.dnd", tenant_id=user.tenant_id, target=("user", user.id),
        old={"dnd": not dnd}, new={"dnd": dnd, "via": via},
    )  # fmt: skip
    return user


def on_dnd(session: Session, tenant_id: int) -> list[User]:
    """The company's users who are on do-not-disturb now, by name."""
    stmt = select(User).where(User.tenant_id == tenant_id, User.dnd.is_(True))
    return list(session.scalars(stmt.order_by(User.name, User.id)))
