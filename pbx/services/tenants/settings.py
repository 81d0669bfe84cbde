"""Company settings a company admin changes on the site: call-log retention and the list of
countries international forwarding may go to (SECURITY.md 21; adding one needs
re-authentication, which the web layer enforces before calling in here)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers
from sqlalchemy.orm import Session

from pbx.errors import ValidationError
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.models import Tenant

_REGION = re.compile(r"^[A-Z]{2}$")
RETENTION_RANGE = (1, 3650)


def _check(actor: Actor, tenant: Tenant) -> None:
    actor.require_admin(tenant.id)


def set_retention(session: Session, actor: Actor, tenant: Tenant, days: int) -> Tenant:
    """How many days call-log entries are kept before `pbx calllog purge` removes them."""
    _check(actor, tenant)
    low, high = RETENTION_RANGE
    if not low <= days <= high:
        raise ValidationError("calllog_retention_days", "retention must be 1–3650 days")
    old = tenant.calllog_retention_days
    if old == days:
        return tenant
    tenant.calllog_retention_days = days
    session.flush()
    audit.record(
        session,
        actor,
        "tenant.retention",
        tenant_id=tenant.id,
        target=("tenant", tenant.id),
        old={"calllog_retention_days": old},
        new={"calllog_retention_days": days},
    )
    return tenant


def region_codes(text: str) -> list[str]:
    """'no, FI  dk' → ['DK', 'FI', 'NO'], each a country phonenumbers knows."""
    codes = sorted({c.upper() for c in re.split(r"[\s,;]+", text) if c})
    for code in codes:
        if not _REGION.match(code) or code not in phonenumbers.SUPPORTED_REGIONS:
            raise not_a_country(code)
    return codes


def not_a_country(code: str) -> ValidationError:
    return ValidationError(
        "countries",
        f"{code} is not a country code (ISO 3166, e.g. NO, FI, DE)",
        code="unknown_country",
        params={"country": code},
    )


def added_countries(tenant: Tenant, countries: Iterable[str]) -> list[str]:
    """The countries a change would add: adding one needs re-authentication, removing not."""
    return added_countries_from(tenant.allowed_countries, countries)


def set_allowed_countries(
    session: Session, actor: Actor, tenant: Tenant, countries: Iterable[str]
) -> Tenant:
    _check(actor, tenant)
    new = sorted(set(countries))
    for code in new:
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise not_a_country(code)
    if tenant.home_region in new:
        raise ValidationError(
            "countries",
            f"{tenant.home_region} is the home country: it is always allowed",
            code="home_country",
            params={"country": tenant.home_region},
        )
    old = sorted(tenant.allowed_countries)
    if old == new:
        return tenant
    tenant.allowed_countries = new
    session.flush()
    audit.record(
        session,
        actor,
        "tenant.allowed_countries",
        tenant_id=tenant.id,
        target=("tenant", tenant.id),
        old={"allowed_countries": old},
        new={"allowed_countries": new, "added": added_countries_from(old, new)},
    )
    return tenant


def added_countries_from(old: Iterable[str], new: Iterable[str]) -> list[str]:
    return sorted(set(new) - set(old))


def set_trust_calling_number(session: Session, actor: Actor, tenant: Tenant, trust: bool) -> Tenant:
    """Whether 333 opens a mailbox for a caller known only by the calling number without the
    PIN. Off by default: anyone who can place a call can forge a calling number, so turning it
    on lets such a caller into any user's voicemail. Audited either way."""
    _check(actor, tenant)
    old = bool(tenant.voicemail_trust_calling_number)
    if old == trust:
        return tenant
    tenant.voicemail_trust_calling_number = trust
    session.flush()
    audit.record(
        session,
        actor,
        "tenant.voicemail_trust_calling_number",
        tenant_id=tenant.id,
        target=("tenant", tenant.id),
        old={"voicemail_trust_calling_number": old},
        new={"voicemail_trust_calling_number": trust},
    )
    return tenant
