"""`pbx tenants|numbers|users list`: read-only listings for scripting."""

from __future__ import annotations

import click

from admin_web.cli.base import emit_json, json_option, runtime
from pbx.services.common.scope import tenant_by_slug
from pbx.services.people import users as user_service
from pbx.services.routing import numbers as number_service
from pbx.services.tenants import companies as tenant_service


@click.group()
def tenants() -> None:
    """Companies on the switchboard."""


@tenants.command("list")
@json_option
def list_tenants(as_json: bool) -> None:
    """List companies."""
    with runtime() as rt, rt.unit_of_work() as s:
        rows = [
            {
                "slug": t.slug,
                "name": t.name,
                "org_number": t.org_number,
                "allowed_countries": t.allowed_countries,
                "retention_days": t.calllog_retention_days,
            }
            for t in tenant_service.list_tenants(s)
        ]
    _print(rows, as_json, ("slug", "org_number", "name"))


@click.group()
def numbers() -> None:
    """Phone numbers."""


@numbers.command("list")
@click.option("--tenant", "slug", help="Only this company (its short name).")
@json_option
def list_numbers(slug: str | None, as_json: bool) -> None:
    """List phone numbers and where they route."""
    with runtime() as rt, rt.unit_of_work() as s:
        tenant_id = tenant_by_slug(s, slug).id if slug else None
        slugs = {t.id: t.slug for t in tenant_service.list_tenants(s)}
        rows = [
            {
                "e164": n.e164,
                "tenant": slugs[n.tenant_id],
                "label": n.label,
                "routes_to": n.target_kind,
                "welcome_slot_id": n.welcome_slot_id,
            }
            for n in number_service.list_numbers(s, tenant_id)
        ]
    _print(rows, as_json, ("e164", "tenant", "routes_to", "label"))


@click.group()
def users() -> None:
    """User accounts and extensions."""


@users.command("list")
@click.option("--tenant", "slug", help="Only this company (its short name).")
@json_option
def list_users(slug: str | None, as_json: bool) -> None:
    """List users."""
    with runtime() as rt, rt.unit_of_work() as s:
        tenant_id = tenant_by_slug(s, slug).id if slug else None
        slugs = {t.id: t.slug for t in tenant_service.list_tenants(s)}
        rows = [
            {
                "email": u.email,
                "name": u.name,
                "tenant": slugs.get(u.tenant_id or 0),
                "role": u.role,
                "extension": u.extension,
                "mobile": u.mobile,
                "status": u.status,
            }
            for u in user_service.list_users(s, tenant_id)
        ]
    _print(rows, as_json, ("email", "tenant", "role", "extension", "status"))


def _print(rows: list[dict[str, object]], as_json: bool, columns: tuple[str, ...]) -> None:
    if as_json:
        emit_json(rows)
        return
    widths = {c: max([len(c)] + [len(str(r[c] or "")) for r in rows]) for c in columns}
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns))
    for row in rows:
        click.echo("  ".join(str(row[c] or "").ljust(widths[c]) for c in columns))
