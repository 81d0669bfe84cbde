"""What the `pbx fraud` and `pbx incident` commands share: times, companies, the actor,
the fraud thresholds from the configuration, and the accounts configuration."""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

import click
from sqlalchemy.orm import Session

from pbx.config import Settings
from pbx.policies.fraud_rules import ZONE
from pbx.policies.fraud_thresholds import Thresholds, from_mapping, parse_settings
from pbx.services.common.actor import Actor, cli_actor
from pbx.services.common.scope import tenant_by_slug
from storage.models import Tenant, utcnow


def actor() -> Actor:
    return cli_actor(f"cli:{getpass.getuser()}")


def moment(text: str, *, end_of_day: bool = False) -> datetime:
    """`2026-07-02` (a Swedish day: its start, or with `end_of_day` the next midnight, so
    --until 2026-07-07 includes the 7th), `2026-07-02T14:00` (Swedish time) or an ISO time
    with an offset."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end_of_day:
                day += timedelta(days=1)
            return datetime.combine(day, time(0), ZONE)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r}: write YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZONE)


def window(
    since: str | None, until: str | None, default_days: int = 1
) -> tuple[datetime, datetime]:
    end = moment(until, end_of_day=True) if until else utcnow()
    start = moment(since) if since else end - timedelta(days=default_days)
    if end <= start:
        raise click.BadParameter("--until must be after --since")
    return start, end


def tenants(session: Session, slugs: Sequence[str]) -> list[Tenant]:
    return [tenant_by_slug(session, slug) for slug in slugs]


def thresholds(settings: Settings, sets: Sequence[str] = ()) -> Thresholds:
    """Defaults, then `[extra.fraud]` of the configuration file, then `--set` options."""
    configured = settings.extra.get("fraud", {}) if settings.extra else {}
    return from_mapping(parse_settings(list(sets)), from_mapping(configured))


set_option = click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="NAME[.alert|.hard_cap]=VALUE",
    help="Override a threshold, e.g. --set intl_legs_user_hour.hard_cap=20.",
)
