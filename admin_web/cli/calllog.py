"""`pbx calllog purge`: delete call-log entries older than each company's retention.

Meant for a daily timer (cron/systemd); every company that loses rows gets an audit entry.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from admin_web.cli.base import emit_json, json_option, runtime
from pbx.services.calllog import export as calllogs_export
from pbx.services.common.actor import cli_actor
from pbx.services.common.scope import tenant_by_slug
from pbx.services.tenants import companies as tenant_service


@click.group()
def calllog() -> None:
    """Call logs (samtalslista)."""


@calllog.command("purge")
@click.option("--tenant", "slug", help="Only this company (its short name).")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.option(
    "--now",
    "now_text",
    metavar="ISO-TIME",
    help="Pretend it is this UTC time (for tests and catching up); default: now.",
)
@json_option
def purge(slug: str | None, dry_run: bool, now_text: str | None, as_json: bool) -> None:
    """Delete call-log entries older than each company's retention (days)."""
    now = _when(now_text)
    with runtime() as rt, rt.unit_of_work() as s:
        companies = [tenant_by_slug(s, slug)] if slug else tenant_service.list_tenants(s)
        results = calllogs_export.purge_expired(
            s, cli_actor("pbx calllog purge"), now, companies, dry_run=dry_run
        )
    rows = [
        {"tenant": r.tenant_slug, "before": r.cutoff.isoformat(), "deleted": r.deleted}
        for r in results
    ]
    if as_json:
        emit_json({"dry_run": dry_run, "now": now.isoformat(), "tenants": rows})
        return
    verb = "would delete" if dry_run else "deleted"
    for row in rows:
        click.echo(f"{row['tenant']}: {verb} {row['deleted']} entries before {row['before']}")
    click.echo(f"total: {verb} {sum(int(str(r['deleted'])) for r in rows)} entries")


def _when(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            "use ISO format, e.g. 2026-11-23T03:00:00", param_hint="--now"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
