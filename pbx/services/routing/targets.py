"""Where a number, IVR key or queue overflow sends a call, validated within one tenant.

Stored as `<prefix>_kind` plus one of `<prefix>_user_id / _ivr_id / _queue_id / _external`.
An external target is checked against the tenant's destination policy at save time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from pbx.errors import DestinationRefused, ValidationError
from pbx.policies.destinations import (
    DestinationNotAllowed,
    DestinationPolicy,
    InvalidNumber,
    check_destination,
    parse_number,
)
from storage.models import IvrMenu, Queue, Tenant, User

KINDS = ("user", "ivr", "queue", "voicemail", "external", "hangup")
_COLUMNS = ("user_id", "ivr_id", "queue_id", "external")


@dataclass(frozen=True)
class Target:
    kind: str
    user_id: int | None = None
    ivr_id: int | None = None
    queue_id: int | None = None
    external: str | None = None

    def describe(self) -> dict[str, object]:
        ref = self.user_id or self.ivr_id or self.queue_id or self.external
        return {"kind": self.kind, "to": ref}


def policy_for(tenant: Tenant) -> DestinationPolicy:
    return DestinationPolicy(
        home_region=tenant.home_region, allowed_countries=frozenset(tenant.allowed_countries)
    )


def validate_target(session: Session, tenant: Tenant, target: Target, field: str) -> Target:
    """Check that the target exists in this tenant and is allowed; returns it normalised."""
    if target.kind not in KINDS:
        raise ValidationError(field, f"unknown destination kind {target.kind!r}")
    if target.kind in ("user", "voicemail"):
        _owned(session, User, target.user_id, tenant, field)
    elif target.kind == "ivr":
        _owned(session, IvrMenu, target.ivr_id, tenant, field)
    elif target.kind == "queue":
        _owned(session, Queue, target.queue_id, tenant, field)
    elif target.kind == "external":
        return Target("external", external=external_number(tenant, target.external, field))
    return target


def external_number(tenant: Tenant, number: str | None, field: str) -> str:
    """Parse and run the fraud guard (SECURITY.md 21) on an external destination."""
    try:
        e164 = parse_number(number or "", tenant.home_region)
        check_destination(e164, policy_for(tenant))
    except InvalidNumber as exc:
        raise ValidationError(field, str(exc), code="invalid_number") from None
    except DestinationNotAllowed as exc:
        raise DestinationRefused(field, str(exc), code=exc.reason_code, number=e164) from None
    return e164


def _owned(
    session: Session, model: type[Any], obj_id: int | None, tenant: Tenant, field: str
) -> None:
    obj = session.get(model, obj_id) if obj_id is not None else None
    if obj is None or obj.tenant_id != tenant.id:
        raise ValidationError(
            field,
            f"no such {model.__name__.lower()} in this company",
            code="unknown_target",
            params={"kind": model.__name__.lower()},
        )


def store_target(row: Any, prefix: str, target: Target) -> None:
    setattr(row, f"{prefix}_kind", target.kind)
    for column in _COLUMNS:
        setattr(row, f"{prefix}_{column}", getattr(target, column))


def load_target(row: Any, prefix: str) -> Target:
    values = {column: getattr(row, f"{prefix}_{column}") for column in _COLUMNS}
    return Target(getattr(row, f"{prefix}_kind"), **values)
