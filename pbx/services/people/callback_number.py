"""The user's registered number: where "Spela in filen" calls them and how 333 knows them.

Changing it is a sensitive action (SECURITY.md 16: the callback could otherwise be pointed at
an attacker's or a premium-rate number): the web page asks for re-authentication first, the
number must be one forwarding may reach under the company's policy, and the change is
audited old → new, and the owner is told through the outbox (SECURITY.md 17).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from pbx.errors import DestinationRefused, PermissionDenied, ValidationError
from pbx.policies.destinations import DestinationPolicy, InvalidNumber, evaluate, parse_number
from pbx.services.accounts import notify
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.models import Tenant, User, utcnow


def change_number(session: Session, actor: Actor, user: User, number: str) -> User:
    if actor.user_id != user.id:
        raise PermissionDenied("you can only change your own number")
    tenant = session.get(Tenant, user.tenant_id) if user.tenant_id else None
    try:
        new = parse_number(number, tenant.home_region if tenant else "SE")
    except InvalidNumber as exc:
        raise ValidationError("number", str(exc), code="invalid_number") from None
    if tenant is not None:
        policy = DestinationPolicy(tenant.home_region, frozenset(tenant.allowed_countries or ()))
        refusal = evaluate(new, policy)
        if refusal is not None:
            raise DestinationRefused(
                "number", refusal.message, code=refusal.reason_code, number=new
            )
    old = user.mobile
    if new == old:
        return user
    user.mobile = new
    session.flush()
    audit.record(
        session, actor, "user.callback_number", tenant_id=user.tenant_id,
        target=("user", user.id), old={"mobile": old}, new={"mobile": new},
    )  # fmt: skip
    notify.owner(session, user, "mobile_changed", utcnow())
    return user
