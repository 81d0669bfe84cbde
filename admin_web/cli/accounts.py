"""`pbx users create|suspend|unsuspend|unlock|reset-password|reset-passwords`, `pbx audit verify`.

Nobody chooses a password here: a new account and every reset get a single-use link, which
is queued in the outbox for the owner and printed so the operator can pass it on.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from admin_web.cli.base import emit_json, json_option, runtime
from admin_web.cli.listing import users
from pbx.errors import NotFound
from pbx.services.accounts import admin as accounts_admin
from pbx.services.accounts import core as accounts
from pbx.services.accounts.admin import ResetLink
from pbx.services.accounts.core import AccountsConfig, find_by_email
from pbx.services.audit.log import verify_chain
from pbx.services.common.actor import Actor, cli_actor
from pbx.services.common.scope import tenant_by_slug
from pbx.services.people.users import ROLES, create_user
from storage.models import AuditEvent, User


def _actor() -> Actor:
    return cli_actor(f"cli:{getpass.getuser()}")


@contextmanager
def _accounts() -> Iterator[tuple[Session, AccountsConfig]]:
    with runtime() as rt, rt.unit_of_work() as session:
        yield session, AccountsConfig.from_settings(rt.settings)


def _user(session: Session, email: str) -> User:
    user = find_by_email(session, email)
    if user is None:
        raise NotFound(f"no account with the e-mail {email}")
    return user


@users.command("create")
@click.option("--tenant", "slug", help="The company's short name (not for operators).")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(ROLES), default="user", show_default=True)
@click.option("--extension")
@click.option("--mobile", help="The user's own mobile, E.164, e.g. +46701234567.")
@click.option("--mobile-reason", default="", help="Why the mobile is foreign (required then).")
def create(
    slug: str | None,
    name: str,
    email: str,
    role: str,
    extension: str | None,
    mobile: str | None,
    mobile_reason: str,
) -> None:
    """Create an account and print its setup link (the owner chooses the password). A mobile
    passes the same number rules as on the site: a domestic mobile, or a foreign mobile with
    --mobile-reason; never premium-rate, shared-cost, personal or satellite numbers."""
    with _accounts() as (s, config):
        tenant = tenant_by_slug(s, slug) if slug else None
        user = create_user(
            s,
            _actor(),
            tenant,
            name=name,
            email=email,
            role=role,
            extension=extension,
            mobile=mobile,
            mobile_reason=mobile_reason,
        )
        link = accounts.issue_link(s, config, _actor(), user, "setup")
        click.echo(f"Created {user.email} ({role}). Setup link, valid once for 72 hours:")
        click.echo(link)


@users.command("suspend")
@click.argument("email")
def suspend(email: str) -> None:
    """Suspend an account: no sign-in, every session ends."""
    with _accounts() as (s, _config):
        accounts_admin.suspend_user(s, _actor(), _user(s, email))
    click.echo(f"Suspended {email}; every session of it has ended.")


@users.command("unsuspend")
@click.argument("email")
def unsuspend(email: str) -> None:
    """Let a suspended (or locked) account sign in again."""
    with _accounts() as (s, _config):
        accounts_admin.unsuspend_user(s, _actor(), _user(s, email))
    click.echo(f"{email} can sign in again.")


@users.command("unlock")
@click.argument("email")
def unlock(email: str) -> None:
    """Clear the failed-login count of a locked account."""
    with _accounts() as (s, _config):
        accounts_admin.unlock_user(s, _actor(), _user(s, email))
    click.echo(f"Unlocked {email}.")


@users.command("reset-password")
@click.argument("email")
@json_option
def reset_password(email: str, as_json: bool) -> None:
    """Force a password reset for one account and print its reset link."""
    with _accounts() as (s, config):
        link = accounts_admin.force_reset_user(s, config, _actor(), _user(s, email))
    _print_links([link], as_json)


@users.command("reset-passwords")
@click.option("--tenant", "slug", help="Every account of this company.")
@click.option("--all", "everyone", is_flag=True, help="Every account of every company.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
def reset_passwords(slug: str | None, everyone: bool, yes: bool, as_json: bool) -> None:
    """Force a password reset for a whole company or for every company; print the links."""
    if bool(slug) == everyone:
        raise click.UsageError("give either --tenant SLUG or --all")
    what = "EVERY company's accounts" if everyone else f"every account of {slug}"
    if not yes:
        click.confirm(f"Reset the passwords of {what} and sign them all out?", abort=True)
    with _accounts() as (s, config):
        if everyone:
            links = accounts_admin.force_reset_all(s, config, _actor())
        else:
            tenant = tenant_by_slug(s, str(slug))
            links = accounts_admin.force_reset_tenant(s, config, _actor(), tenant)
    _print_links(links, as_json)
    if not as_json:
        click.echo(f"{len(links)} account(s) reset; links also queued in the outbox.", err=True)


def _print_links(links: list[ResetLink], as_json: bool) -> None:
    if as_json:
        emit_json([{"email": r.email, "link": r.link} for r in links])
        return
    for row in links:
        click.echo(f"{row.email}\t{row.link}")


@click.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
def verify() -> None:
    """Check every entry's hash and link; exit 1 if anything was changed or removed."""
    with runtime() as rt, rt.unit_of_work() as s:
        problems = verify_chain(s)
        count = s.query(AuditEvent).count()
    if problems:
        for problem in problems:
            click.echo(f"entry {problem.event_id}: {problem.problem}", err=True)
        raise click.ClickException(f"the audit log was tampered with ({len(problems)} problem(s))")
    click.echo(f"audit log intact: {count} entries, every hash and link checks out")
