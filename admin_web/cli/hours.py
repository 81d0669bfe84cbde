"""`pbx hours`: a company's opening hours (öppettider) and which numbers and IVR keys follow
them; `pbx dnd`: a user's do-not-disturb (stör ej)."""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_web.cli.base import emit_json, json_option, runtime
from pbx.errors import NotFound, ValidationError
from pbx.policies import opening_hours as policy
from pbx.services.common.actor import cli_actor
from pbx.services.common.scope import tenant_by_slug
from pbx.services.people import presence
from pbx.services.routing import hours, ivr
from pbx.services.routing.targets import Target
from storage.models import IvrMenu, IvrOption, MessageSlot, PhoneNumber, Tenant, User

DAYS = {name: index for index, name in enumerate(policy.WEEKDAYS)}


@click.group("hours")
def hours_group() -> None:
    """Opening hours, holidays and closed days; numbers routed by them."""


@hours_group.command("show")
@click.option("--tenant", "slug", required=True, help="The company's short name.")
@click.option("--year", type=int, default=None, help="Holidays of this year (default: none).")
@json_option
def show(slug: str, year: int | None, as_json: bool) -> None:
    """The company's weekly hours, holidays kept open and closed days."""
    with runtime() as rt, rt.unit_of_work() as s:
        tenant = tenant_by_slug(s, slug)
        rules = hours.as_policy(hours.find_hours(s, tenant.id))
        data = {
            "weekly": {d: policy.day_text(rules, i) for d, i in DAYS.items()},
            "open_holidays": sorted(rules.open_holidays),
            "closed_days": [{"date": d.isoformat(), "note": n} for d, n in rules.closed_days],
            "holidays": [
                {"date": d.isoformat(), "name": n, "closed": n not in rules.open_holidays}
                for d, n in (policy.holiday_names(year) if year else [])
            ],
        }
    if as_json:
        emit_json(data)
        return
    for day, text in data["weekly"].items():  # type: ignore[union-attr]
        click.echo(f"{day}  {text or 'closed'}")
    for holiday in data["holidays"]:  # type: ignore[union-attr]
        click.echo(
            f"{holiday['date']}  {holiday['name']}  {'closed' if holiday['closed'] else 'open'}"
        )
    for day in data["closed_days"]:  # type: ignore[union-attr]
        click.echo(f"{day['date']}  closed  {day['note']}")


@hours_group.command("set")
@click.option("--tenant", "slug", required=True)
@click.option("--number", "e164", default=None, help="Give this number its own hours.")
@click.argument("days", nargs=-1, required=True, metavar="DAY=HH:MM-HH:MM[,HH:MM-HH:MM]…")
def set_hours(slug: str, e164: str | None, days: tuple[str, ...]) -> None:
    """Weekly hours, e.g. mon=08:00-17:00 sat= (days not named are closed)."""
    texts: dict[int, str] = {}
    for item in days:
        day, _, text = item.partition("=")
        if day not in DAYS:
            raise click.BadParameter(f"{day!r}: use mon tue wed thu fri sat sun")
        texts[DAYS[day]] = text
    with runtime() as rt, rt.unit_of_work() as s:
        tenant = tenant_by_slug(s, slug)
        number = _number(s, tenant.id, e164) if e164 else None
        hours.set_weekly(s, cli_actor("pbx hours set"), tenant, texts, number)
    click.echo("Saved.")


@hours_group.command("closed-day")
@click.option("--tenant", "slug", required=True)
@click.option("--remove", is_flag=True, help="Remove the closed day instead.")
@click.argument("day", metavar="YYYY-MM-DD")
@click.argument("note", default="")
def closed_day(slug: str, remove: bool, day: str, note: str) -> None:
    """Add (or remove) a one-off closed day."""
    with runtime() as rt, rt.unit_of_work() as s:
        tenant = tenant_by_slug(s, slug)
        actor = cli_actor("pbx hours closed-day")
        if remove:
            hours.remove_closed_day(s, actor, tenant, day)
        else:
            hours.add_closed_day(s, actor, tenant, day, note)
    click.echo("Saved.")


@hours_group.command("keep-open")
@click.option("--tenant", "slug", required=True)
@click.option("--year", type=int, required=True, help="The year whose holidays are named.")
@click.argument("names", nargs=-1)
def keep_open(slug: str, year: int, names: tuple[str, ...]) -> None:
    """Holidays kept as ordinary days (by Swedish name; none: every holiday closed)."""
    with runtime() as rt, rt.unit_of_work() as s:
        tenant = tenant_by_slug(s, slug)
        hours.set_open_holidays(s, cli_actor("pbx hours keep-open"), tenant, list(names), year)
    click.echo("Saved.")


@hours_group.command("route")
@click.option("--tenant", "slug", required=True)
@click.option("--number", "e164", default=None, help="The number to route by opening hours.")
@click.option("--menu", default=None, help="Or the IVR menu (by name or id) whose key …")
@click.option("--key", default=None, help="… is routed by opening hours (0–9, #, t).")
@click.option(
    "--closed-to",
    default=None,
    metavar="voicemail:EXT|user:EXT|hangup",
    help="Where calls go when closed; omit to route at all times.",
)
@click.option("--message", default=None, help="The closed message by its name (e.g. Stängt).")
def route(
    slug: str,
    e164: str | None,
    menu: str | None,
    key: str | None,
    closed_to: str | None,
    message: str | None,
) -> None:
    """Route a number (--number) or an IVR key (--menu --key) by opening hours: when closed,
    the message, then `--closed-to`."""
    if (e164 is None) == (menu is None) or (menu is None) != (key is None):
        raise click.UsageError("give --number, or --menu with --key")
    with runtime() as rt, rt.unit_of_work() as s:
        tenant = tenant_by_slug(s, slug)
        row = _number(s, tenant.id, e164) if e164 else _key(s, tenant, menu or "", key or "")
        target = _target(s, tenant.id, closed_to) if closed_to else None
        slot = _slot(s, tenant.id, message) if message else None
        hours.set_closed_branch(s, cli_actor("pbx hours route"), tenant, row, target, slot)
    click.echo("Saved.")


def _key(s: Session, tenant: Tenant, menu: str, digit: str) -> IvrOption:
    """A bound key of one of the company's menus (named, or by id)."""
    by = IvrMenu.id == int(menu) if menu.isdigit() and len(menu) < 10 else IvrMenu.name == menu
    found = s.scalar(select(IvrMenu).where(IvrMenu.tenant_id == tenant.id, by).order_by(IvrMenu.id))
    if found is None:
        raise NotFound(f"no IVR menu {menu!r} in this company")
    option = ivr.find_option(s, found.id, digit)
    if option is None:
        raise NotFound(f"key {digit} is not used in menu {found.name!r}")
    return option


def _number(s: Session, tenant_id: int, e164: str) -> PhoneNumber:
    found = s.scalar(
        select(PhoneNumber).where(PhoneNumber.tenant_id == tenant_id, PhoneNumber.e164 == e164)
    )
    if found is None:
        raise NotFound(f"{e164} is not a number of this company")
    return found


def _target(s: Session, tenant_id: int, text: str) -> Target:
    kind, _, ext = text.partition(":")
    if kind == "hangup":
        return Target("hangup")
    if kind not in ("voicemail", "user"):
        raise ValidationError("closed", "use voicemail:EXT, user:EXT or hangup")
    user_id = s.scalar(select(User.id).where(User.tenant_id == tenant_id, User.extension == ext))
    if user_id is None:
        raise NotFound(f"no extension {ext} in this company")
    return Target(kind, user_id=user_id)


def _slot(s: Session, tenant_id: int, name: str) -> int:
    slot_id = s.scalar(
        select(MessageSlot.id).where(
            MessageSlot.tenant_id == tenant_id,
            MessageSlot.name == name,
            MessageSlot.deleted_at.is_(None),
        )
    )
    if slot_id is None:
        raise NotFound(f"no message named {name!r} in this company")
    return int(slot_id)


@click.command("dnd")
@click.argument("email")
@click.argument("state", type=click.Choice(["on", "off"]))
def dnd(email: str, state: str) -> None:
    """Switch a user's do-not-disturb on or off (audited)."""
    with runtime() as rt, rt.unit_of_work() as s:
        user = s.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise NotFound(f"no user {email}")
        presence.set_dnd(s, cli_actor("pbx dnd"), user, state == "on", via="cli")
    click.echo(f"Do-not-disturb {state} for {email}.")
