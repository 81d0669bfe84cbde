"""Phone numbers of a company and what each routes to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import Conflict, ValidationError
from pbx.policies.destinations import InvalidNumber, parse_number
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from pbx.services.library.slots import require_slot
from pbx.services.routing.targets import Target, load_target, store_target, validate_target
from storage.models import PhoneNumber, Tenant


def add_number(
    session: Session,
    actor: Actor,
    tenant: Tenant,
    e164: str,
    target: Target,
    *,
    label: str = "",
    welcome_slot_id: int | None = None,
) -> PhoneNumber:
    actor.require_admin(tenant.id)
    e164 = _number(e164, tenant.home_region)
    number = PhoneNumber(tenant_id=tenant.id, e164=e164, label=label.strip()[:100])
    if session.scalar(select(PhoneNumber.id).where(PhoneNumber.e164 == number.e164)):
        raise Conflict(f"{number.e164} is already in use")
    _apply(session, tenant, number, target, welcome_slot_id)
    session.add(number)
    session.flush()
    audit.record(
        session,
        actor,
        "number.create",
        tenant_id=tenant.id,
        target=("number", number.id),
        new={"e164": number.e164, **target.describe(), "welcome_slot_id": welcome_slot_id},
    )
    return number


def route_number(
    session: Session,
    actor: Actor,
    tenant: Tenant,
    number: PhoneNumber,
    target: Target,
    welcome_slot_id: int | None,
) -> PhoneNumber:
    actor.require_admin(tenant.id, number.tenant_id)
    old = {**load_target(number, "target").describe(), "welcome_slot_id": number.welcome_slot_id}
    _apply(session, tenant, number, target, welcome_slot_id)
    session.flush()
    audit.record(
        session,
        actor,
        "number.route",
        tenant_id=tenant.id,
        target=("number", number.id),
        old=old,
        new={**target.describe(), "welcome_slot_id": welcome_slot_id},
    )
    return number


def _apply(
    session: Session, tenant: Tenant, number: PhoneNumber, target: Target, welcome: int | None
) -> None:
    if target.kind == "hangup":
        raise ValidationError("target", "a number must lead somewhere")
    store_target(number, "target", validate_target(session, tenant, target, "target"))
    if welcome is not None:
        require_slot(session, tenant, welcome, "welcome_slot_id")
    number.welcome_slot_id = welcome


def _number(value: str, home_region: str) -> str:
    try:
        return parse_number(value, home_region)
    except InvalidNumber as exc:
        raise ValidationError("e164", str(exc), code="invalid_number") from None


def list_numbers(session: Session, tenant_id: int | None = None) -> list[PhoneNumber]:
    stmt = select(PhoneNumber).order_by(PhoneNumber.tenant_id, PhoneNumber.e164)
    if tenant_id is not None:
        stmt = stmt.where(PhoneNumber.tenant_id == tenant_id)
    return list(session.scalars(stmt))
