"""`pbx incident …`: containment (suspend, reset passwords, forwarding changes and their
revert), affected callers and their letters, the outbox over SMTP, lost-voicemail call-back
lists, the recovery dashboard; the register and the demos have modules of their own."""

from __future__ import annotations

from pathlib import Path

import click

from admin_web.cli.base import emit_json, json_option, runtime
from admin_web.cli.incident_common import actor, tenants, window
from pbx.errors import NotFound
from pbx.incident import (
    callbacks,
    callers,
    forwarding_changes,
    letters,
    mailer,
    recovery,
    rerecord,
    response,
)
from pbx.services.accounts.core import AccountsConfig, find_by_email
from pbx.services.common.scope import tenant_by_slug


@click.group()
def incident() -> None:
    """Incident response: contain, notify, recover, document."""


@incident.command("suspend")
@click.argument("emails", nargs=-1)
@click.option("--tenant", "slug", help="Every account of this company.")
def suspend(emails: tuple[str, ...], slug: str | None) -> None:
    """Suspend the accounts named (e-mails) or every account of one company."""
    if bool(emails) == bool(slug):
        raise click.UsageError("give e-mail addresses or --tenant SLUG")
    with runtime() as rt, rt.unit_of_work() as s:
        if slug:
            report = response.suspend_tenant(s, actor(), tenant_by_slug(s, slug))
        else:
            report = response.suspend_accounts(s, actor(), emails)
    click.echo(f"suspended {len(report.suspended)}, already suspended {len(report.already)}")
    for email in report.unknown:
        click.echo(f"no account {email}", err=True)


@incident.command("reset-passwords")
@click.option("--tenant", "slug", help="Every account of this company.")
@click.option("--all", "everyone", is_flag=True, help="Every account of every customer.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def reset_passwords(slug: str | None, everyone: bool, yes: bool) -> None:
    """Force a password reset (links to the owners through the outbox)."""
    if bool(slug) == everyone:
        raise click.UsageError("give either --tenant SLUG or --all")
    if not yes:
        click.confirm(
            f"Reset the passwords of {'EVERY customer' if everyone else slug}?", abort=True
        )
    with runtime() as rt, rt.unit_of_work() as s:
        tenant = None if everyone else tenant_by_slug(s, str(slug))
        links = response.reset_passwords(
            s, AccountsConfig.from_settings(rt.settings), actor(), tenant
        )
    click.echo(f"{len(links)} account(s) must set a new password; reset links are in the outbox")


@incident.command("forwarding-changes")
@click.option("--since", required=True, help="YYYY-MM-DD or ISO time (Swedish time).")
@click.option("--until", help="YYYY-MM-DD (inclusive) or ISO time; default: now.")
@click.option("--tenant", "slugs", multiple=True, help="Only these companies.")
@click.option("--ip", help="Only changes made from this IP address.")
@click.option("--revert", is_flag=True, help="Undo every change listed, in one action.")
@click.option("--yes", is_flag=True, help="Do not ask before reverting.")
@json_option
def forwarding(
    since: str,
    until: str | None,
    slugs: tuple[str, ...],
    ip: str | None,
    revert: bool,
    yes: bool,
    as_json: bool,
) -> None:
    """Every forwarding change in a window: when, company, account, actor, IP, old → new."""
    start, end = window(since, until)
    with runtime() as rt, rt.unit_of_work() as s:
        ids = [t.id for t in tenants(s, slugs)] if slugs else None
        rows = forwarding_changes.list_changes(s, start, end, tenant_ids=ids, ip=ip)
        if as_json and not revert:
            emit_json([r.as_dict() for r in rows])
            return
        for r in rows:
            click.echo(
                f"#{r.event_id} {callers.local(r.at)} {r.tenant_slug} {r.user_email} {r.kind}: "
                f"{forwarding_changes.describe(r.old)} → {forwarding_changes.describe(r.new)} "
                f"by {r.actor} from {r.ip or '-'}"
            )
        click.echo(f"{len(rows)} change(s)")
        if revert and rows:
            if not yes:
                click.confirm(f"Undo these {len(rows)} change(s)?", abort=True)
            report = response.revert_forwarding(s, actor(), [r.event_id for r in rows])
            for item in report.reverted:
                click.echo(
                    f"reverted {item['email']} {item['kind']}: {item['from']} → {item['to']}"
                )
            for item in report.skipped:
                click.echo(f"left alone {item['email']} {item['kind']}: {item['reason']}")


@incident.command("affected-callers")
@click.option("--tenant", "slugs", multiple=True, required=True, help="An affected company.")
@click.option("--since", required=True, help="First day, YYYY-MM-DD (Swedish time).")
@click.option("--until", required=True, help="Last day (inclusive), YYYY-MM-DD.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="CSV: number, calls, first and last call — never the company.",
)
@click.option("--letters", "queue", is_flag=True, help="Queue the letter to each caller.")
@click.option(
    "--gateway-domain",
    default=letters.LetterSettings.gateway_domain,
    show_default=True,
    help="Letters go to <number>@<this domain> (an SMS gateway).",
)
def affected_callers(
    slugs: tuple[str, ...], since: str, until: str, out: Path, queue: bool, gateway_domain: str
) -> None:
    """Distinct outside callers of the affected companies in a window, as CSV; with
    --letters, the notice to each one (sent by SMTP when PBX_SMTP_URL is set)."""
    start, end = window(since, until)
    with runtime() as rt, rt.unit_of_work() as s:
        ids = [t.id for t in tenants(s, slugs)]
        found, text = callers.export(s, actor(), ids, start, end)
        out.write_text(text, encoding="utf-8")
        click.echo(f"{len(found)} caller number(s) written to {out}")
        if queue:
            settings = letters.LetterSettings(gateway_domain=gateway_domain)
            count = letters.queue_letters(s, actor(), found, start, end, settings)
            click.echo(f"{count} letter(s) queued in the outbox")
            if rt.settings.smtp_url:
                sent = mailer.send_outbox(s, rt.settings.smtp_url, kinds=[letters.KIND])
                click.echo(f"{sent.sent} letter(s) sent by SMTP, {len(sent.refused)} refused")


@incident.command("send-outbox")
@click.option("--kind", "kinds", multiple=True, help="Only messages of this kind.")
@click.option("--limit", type=int, help="At most this many.")
def send_outbox(kinds: tuple[str, ...], limit: int | None) -> None:
    """Send unsent outbox messages through PBX_SMTP_URL."""
    with runtime() as rt, rt.unit_of_work() as s:
        if not rt.settings.smtp_url:
            raise click.ClickException("PBX_SMTP_URL is not set")
        report = mailer.send_outbox(
            s, rt.settings.smtp_url, kinds=kinds or None, limit=limit,
            blobs=rt.blobs(s), site_url=rt.settings.public_url,
        )  # fmt: skip
    click.echo(f"{report.sent} sent, {len(report.refused)} refused")


@incident.command("callbacks")
@click.option("--tenant", "slug", required=True)
@click.option("--user", "email", help="Only this user's messages.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write CSV here.")
def callback_list(slug: str, email: str | None, out: Path | None) -> None:
    """Received voicemail whose audio was lost: caller and time, per user, to call back."""
    with runtime() as rt, rt.unit_of_work() as s:
        tenant = tenant_by_slug(s, slug)
        user = find_by_email(s, email) if email else None
        if email and user is None:
            raise NotFound(f"no account with the e-mail {email}")
        text = callbacks.export(s, rt.blobs(s), actor(), tenant, user.id if user else None)
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"{len(text.splitlines()) - 1} message(s) to call back written to {out}")
    else:
        click.echo(text, nl=False)


@incident.command("recovery")
@click.option("--tenant", "slug", required=True)
@click.option("--since", help="When the media was lost (default: a week ago).")
@click.option("--notify", is_flag=True, help="Tell the company's admins what to re-record.")
@json_option
def recovery_command(slug: str, since: str | None, notify: bool, as_json: bool) -> None:
    """Missing media by kind: restored, regenerated, re-recorded, still missing."""
    start, _ = window(since, None, default_days=7)
    with runtime() as rt, rt.unit_of_work() as s:
        tenant = tenant_by_slug(s, slug)
        board = recovery.dashboard(s, rt.blobs(s), tenant, start)
        told = rerecord.notify_admins(s, actor(), tenant, board) if notify else 0
        data = board.as_dict()
    if as_json:
        emit_json(data | {"admins_told": told})
        return
    print_board(data["rows"])
    if notify:
        click.echo(f"{told} admin(s) told what to re-record")


def print_board(rows: list[dict[str, object]]) -> None:
    click.echo(f"{'kind':10} {'lost':>5} {'restored':>9} {'tts':>5} {'re-rec':>7} {'missing':>8}")
    for r in rows:
        click.echo(
            f"{r['kind']:10} {r['lost']:>5} {r['restored']:>9} {r['regenerated']:>5} "
            f"{r['rerecorded']:>7} {r['missing']:>8}"
        )
