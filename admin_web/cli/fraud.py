"""`pbx fraud scan|alerts|dismiss|contain|lift|thresholds`: the fraud rules over history,
their alerts, and containment by hand."""

from __future__ import annotations

import click

from admin_web.cli.base import emit_json, json_option, runtime
from admin_web.cli.incident_common import actor, set_option, thresholds, window
from pbx.errors import NotFound
from pbx.incident import alerts, containment
from pbx.incident.containment import Containment
from pbx.incident.scan import alert_dict, scan
from pbx.services.accounts.core import AccountsConfig, find_by_email


@click.group()
def fraud() -> None:
    """Fraud detection (SECURITY.md 22): scan, alerts, containment."""


@fraud.command("scan")
@click.option("--since", help="YYYY-MM-DD or ISO time (Swedish time); default: a day ago.")
@click.option("--until", help="YYYY-MM-DD (inclusive) or ISO time; default: now.")
@click.option("--no-contain", is_flag=True, help="Raise alerts only; contain nobody.")
@set_option
@json_option
def scan_command(
    since: str | None, until: str | None, no_contain: bool, sets: tuple[str, ...], as_json: bool
) -> None:
    """Run every fraud rule over the call log and audit log; contain above the hard caps."""
    start, end = window(since, until)
    with runtime() as rt, rt.unit_of_work() as s:
        limits = thresholds(rt.settings, sets)
        config = AccountsConfig.from_settings(rt.settings)
        result = scan(
            s, actor(), start, end, thresholds=limits, config=config, contain=not no_contain
        )
        report = result.as_dict()
    if as_json:
        emit_json(report)
        return
    click.echo(
        f"scanned {report['since']} – {report['until']}: {report['legs']} forwarded legs, "
        f"{report['changes']} forwarding changes, {report['logins']} logins "
        f"in {report['seconds']} s"
    )
    for alert in report["new_alerts"] + report["raised_alerts"]:
        click.echo(_alert_line(alert))
    for done in result.contained:
        click.echo(_contained_line(done))
    click.echo(f"{len(report['new_alerts'])} new alert(s), {len(result.contained)} contained")


def _alert_line(alert: dict[str, object]) -> str:
    cap = "HARD CAP" if alert["hard_cap"] else "alert"
    who = f"user {alert['user_id']}" if alert["user_id"] else f"company {alert['tenant_id']}"
    return (
        f"  #{alert['id']} {cap:8} {alert['rule']:26} {who:12} {alert['value']:g} "
        f"{alert['unit']} (limit {alert['threshold']:g}) from {alert['window_start']} "
        f"[{alert['status']}]"
    )


def _contained_line(done: Containment) -> str:
    reverted = "; ".join(f"{k}: {v}" for k, v in done.reverted.items()) or "nothing to revert"
    return (
        f"  contained {done.email}: {reverted}; outside forwarding off "
        f"({', '.join(done.rules_off) or 'no rules'}); signed out, reset link sent; "
        f"{done.admins_told} admin(s) told"
    )


@fraud.command("alerts")
@click.option(
    "--status",
    type=click.Choice(["open", "contained", "dismissed", "all"]),
    default="open",
    show_default=True,
)
@json_option
def list_command(status: str, as_json: bool) -> None:
    """The fraud alerts, newest first."""
    with runtime() as rt, rt.unit_of_work() as s:
        rows = alerts.list_alerts(s, actor(), status=None if status == "all" else status)
        data = [alert_dict(r.alert) | {"tenant": r.tenant_slug, "user": r.user_email} for r in rows]
    if as_json:
        emit_json(data)
        return
    for alert in data:
        click.echo(_alert_line(alert) + f" {alert['tenant']} {alert['user']}")
    click.echo(f"{len(data)} alert(s)")


@fraud.command("dismiss")
@click.argument("alert_id", type=int)
@click.option("--note", required=True, help="Why it is a false alarm.")
def dismiss_command(alert_id: int, note: str) -> None:
    """Close an open alert as a false alarm."""
    with runtime() as rt, rt.unit_of_work() as s:
        alerts.dismiss(s, actor(), alert_id, note)
    click.echo(f"alert {alert_id} dismissed")


@fraud.command("contain")
@click.argument("alert_id", type=int)
def contain_command(alert_id: int) -> None:
    """Contain the accounts behind an open alert now."""
    with runtime() as rt, rt.unit_of_work() as s:
        done = alerts.contain(s, AccountsConfig.from_settings(rt.settings), actor(), alert_id)
        lines = [_contained_line(d) for d in done]
    click.echo("\n".join(lines) or "nobody to contain (already contained)")


@fraud.command("lift")
@click.argument("email")
def lift_command(email: str) -> None:
    """End an account's forwarding suspension: switch back on the rules it switched off."""
    with runtime() as rt, rt.unit_of_work() as s:
        user = find_by_email(s, email)
        if user is None:
            raise NotFound(f"no account with the e-mail {email}")
        back = containment.lift_block(s, actor(), user)
    click.echo(f"{email}: forwarding back on ({', '.join(back) or 'no rules'})")


@fraud.command("thresholds")
@set_option
@json_option
def thresholds_command(sets: tuple[str, ...], as_json: bool) -> None:
    """The thresholds in force (defaults, configuration file, --set)."""
    with runtime() as rt:
        data = thresholds(rt.settings, sets).as_dict()
    if as_json:
        emit_json(data)
        return
    for name, value in data.items():
        click.echo(f"{name:28} {value}")
