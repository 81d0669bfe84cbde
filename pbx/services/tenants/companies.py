"""Companies (tenants): creation, listing, settings."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx import identifiers
from pbx.errors import Conflict, PermissionDenied, ValidationError
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.models import Tenant


def create_tenant(
    session: Session,
    actor: Actor,
    *,
    name: str,
    org_number: str,
    slug: str,
    retention_days: int = 90,
) -> Tenant:
    if not actor.is_operator:
        raise PermissionDenied("only the operator creates companies")
    tenant = Tenant(
        name=identifiers.name(name),
        org_number=identifiers.org_number(org_number),
        slug=identifiers.slug(slug),
        calllog_retention_days=_retention(retention_days),
        allowed_countries=[],
    )
    _refuse_duplicates(session, tenant)
    session.add(tenant)
    session.flush()
    audit.record(
        session,
        actor,
        "tenant.create",
        tenant_id=tenant.id,
        target=("tenant", tenant.id),
        new={"name": tenant.name, "org_number": tenant.org_number, "slug": tenant.slug},
    )
    return tenant


def _retention(days: int) -> int:
    if not 1 <= days <= 3650:
        raise ValidationError("calllog_retention_days", "retention must be 1–3650 days")
    return days


def _refuse_duplicates(session: Session, tenant: Tenant) -> None:
    for column, value, label in (
        (Tenant.slug, tenant.slug, "short name"),
        (Tenant.org_number, tenant.org_number, "organisation number"),
    ):
        if session.scalar(select(Tenant.id).where(column == value)) is not None:
            raise Conflict(f"a company with this {label} already exists: {value}")


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).order_by(Tenant.name)))


def find_tenant(session: Session, slug: str) -> Tenant | None:
    return session.scalar(select(Tenant).where(Tenant.slug == slug))
