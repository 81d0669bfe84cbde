"""Form helpers of the operator pages: the company chosen in a form, a time window."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.views.site_common import Form
from pbx.policies.fraud_rules import ZONE
from pbx.services.tenants.companies import list_tenants
from storage.models import Tenant, utcnow


def tenant_choices() -> list[tuple[str, str]]:
    return [(t.slug, t.name) for t in list_tenants(db())]


def tenant_of_form(form: Form, *, required: bool = True, name: str = "tenant") -> Tenant | None:
    slug = form.text(name).strip()
    if not slug:
        if required:
            form.errors[name] = _("Choose a company.")
        return None
    tenant = db().scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        form.errors[name] = _("Choose a company.")
    return tenant


def tenants_of_form(form: Form, slugs: list[str], name: str = "tenants") -> list[Tenant]:
    found = list(db().scalars(select(Tenant).where(Tenant.slug.in_(slugs))))
    if not found:
        form.errors[name] = _("Choose at least one company.")
    return found


def _day(form: Form, name: str) -> date | None:
    text = form.text(name).strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        form.errors[name] = _("Dates are written YYYY-MM-DD.")
        return None


def parse_window(form: Form, *, default_days: int) -> tuple[datetime, datetime]:
    """Swedish days from `since` to `until` inclusive; by default the last `default_days`."""
    first, last = _day(form, "since"), _day(form, "until")
    until = datetime.combine(last + timedelta(days=1), time(0), ZONE) if last else utcnow()
    since = (
        datetime.combine(first, time(0), ZONE) if first else until - timedelta(days=default_days)
    )
    if since >= until:
        form.errors["until"] = _("The end date is before the start date.")
    return since, until
