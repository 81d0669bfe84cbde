"""Issue 17 items 4–7 from the command line: `pbx voicemail settings|pin-reset`,
`pbx numbers add|remove|leads`, `pbx calllog stats`, `pbx users import`. Each calls the
same service as the site; user mistakes print one line and exit non-zero."""

from __future__ import annotations

import csv
import getpass
import sys
from datetime import date
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_web.cli.base import emit_json, json_option, runtime
from admin_web.cli.calllog import calllog
from admin_web.cli.listing import numbers, users
from pbx.errors import NotFound
from pbx.services.accounts.core import AccountsConfig, find_by_email
from pbx.services.calllog import stats
from pbx.services.common.actor import Actor, cli_actor
from pbx.services.common.scope import tenant_by_slug
from pbx.services.people import user_import, voicemail_settings
from pbx.services.routing import number_admin
from pbx.services.routing.targets import Target
from storage.models import PhoneNumber, User


def _actor() -> Actor:
    return cli_actor(f"cli:{getpass.getuser()}")


def _user(session: Session, email: str) -> User:
    user = find_by_email(session, email)
    if user is None:
        raise NotFound(f"no account {email}")
    return user


@click.group()
def voicemail() -> None:
    """Voicemail boxes (röstbrevlådor)."""


@voicemail.command("settings")
@click.argument("email")
@click.option("--greeting-only/--take-messages", default=None, help="Greeting only, or not.")
@click.option("--email-notify", type=click.Choice(voicemail_settings.EMAIL_CHOICES))
@json_option
def settings(
    email: str, greeting_only: bool | None, email_notify: str | None, as_json: bool
) -> None:
    """Show (and with options change) a user's voicemail settings."""
    with runtime() as rt, rt.unit_of_work() as s:
        user = _user(s, email)
        now = voicemail_settings.settings_of(s, user)
        if greeting_only is not None or email_notify is not None:
            now = voicemail_settings.update(
                s, _actor(), user,
                greeting_only=now.greeting_only if greeting_only is None else greeting_only,
                email_notify=email_notify or now.email_notify,
            )  # fmt: skip
        shown = {"email": email, "has_pin": now.has_pin, "greeting_only": now.greeting_only,
                 "email_notify": now.email_notify}  # fmt: skip
    if as_json:
        emit_json(shown)
    else:
        click.echo("\t".join(f"{k}={v}" for k, v in shown.items()))


@voicemail.command("pin-reset")
@click.argument("email")
def pin_reset(email: str) -> None:
    """Clear a forgotten 333 PIN (the owner chooses a new one on the site; told by e-mail)."""
    with runtime() as rt, rt.unit_of_work() as s:
        voicemail_settings.reset_pin(s, _actor(), _user(s, email))
    click.echo(f"voicemail PIN of {email} reset")


@numbers.command("add")
@click.option("--tenant", "slug", required=True)
@click.option("--number", "e164", required=True, help="E.164, e.g. +46812345678.")
@click.option("--to", "kind", type=click.Choice(["ivr", "queue", "user", "voicemail"]),
              required=True)  # fmt: skip
@click.option("--id", "target_id", type=int, required=True, help="The menu, queue or user id.")
@click.option("--label", default="")
def add_number(slug: str, e164: str, kind: str, target_id: int, label: str) -> None:
    """Give a company a number leading to a menu, queue, user or voicemail."""
    key = {"ivr": "ivr_id", "queue": "queue_id"}.get(kind, "user_id")
    with runtime() as rt, rt.unit_of_work() as s:
        tenant = tenant_by_slug(s, slug)
        target = Target(kind, **{key: target_id})
        number = number_admin.assign_number(s, _actor(), tenant, e164, target, label)
        click.echo(f"{number.e164} added to {slug}")


def _number(session: Session, e164: str) -> PhoneNumber:
    found = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == e164))
    if found is None:
        raise NotFound(f"no number {e164}")
    return found


@numbers.command("remove")
@click.argument("e164")
def remove_number(e164: str) -> None:
    """Take a number away (refused while it is the only way into a menu or queue in use)."""
    with runtime() as rt, rt.unit_of_work() as s:
        number_admin.remove_number(s, _actor(), _number(s, e164))
    click.echo(f"{e164} removed")


@numbers.command("leads")
@click.argument("e164")
def leads(e164: str) -> None:
    """Where a number leads: its destination, menu keys, queue overflow."""
    with runtime() as rt, rt.unit_of_work() as s:
        for lead in number_admin.leads_of(s, _number(s, e164)):
            via = f"[{lead.via}] " if lead.via else ""
            click.echo(f"{'  ' * lead.depth}{via}{lead.kind} {lead.name}".rstrip())


@calllog.command("stats")
@click.option("--tenant", "slug", required=True)
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), required=True)
def call_stats(slug: str, first: object, last: object) -> None:
    """Call statistics of a company and period as CSV (audited, like the site's export)."""
    with runtime() as rt, rt.unit_of_work() as s:
        tenant = tenant_by_slug(s, slug)
        text = stats.export_csv(s, _actor(), tenant.id, _day(first), _day(last))
    click.echo(text, nl=False)


def _day(value: object) -> date:
    return value.date()  # type: ignore[attr-defined, no-any-return]


@users.command("import")
@click.option("--tenant", "slug", required=True)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Import when the file is clean (else: preview only).")
def import_users(slug: str, path: Path, yes: bool) -> None:
    """Users from a CSV file: every row's errors first; with --yes all rows or none, each new
    user sent a setup link (printed as e-mail<TAB>link)."""
    data = path.read_bytes()
    with runtime() as rt, rt.unit_of_work() as s:
        tenant = tenant_by_slug(s, slug)
        checked = user_import.preview(s, _actor(), tenant, data)
        out = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
        for problem in checked.problems:
            out.writerow(["file", problem.message])
        for row in checked.rows:
            for error in row.errors:
                out.writerow([f"line {row.line}", str(error)])
        if not checked.ok:
            raise click.ClickException("nothing imported: correct the file")
        if not yes:
            click.echo(f"{len(checked.rows)} rows are clean; run again with --yes to import")
            return
        config = AccountsConfig.from_settings(rt.settings)
        for done in user_import.import_users(s, config, _actor(), tenant, data):
            out.writerow([done.user.email, done.link])
