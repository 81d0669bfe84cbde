"""`pbx phone`: the SIP/RTP front (real phones and the carrier trunk) and phone credentials."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from admin_web.cli.base import runtime, settings_from_env
from admin_web.phone_edge import (
    EdgeError,
    EdgePlan,
    Fleet,
    start_edge,
    start_fleet,
    supervise,
)
from admin_web.phone_front import build_worker, serve_forever
from pbx.phone.worker import PhoneWorker
from pbx.services.common.actor import cli_actor
from pbx.services.common.scope import tenant_by_slug
from pbx.services.people import phones
from pbx.services.people.phones import secret_box
from storage.models import User


@click.group()
def phone() -> None:
    """The SIP front: phones register, the trunk brings calls, the engine answers them."""


@phone.command("serve")
@click.option("--host", help="Address to listen on (PBX_SIP_HOST, default 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="SIP port, UDP and TCP (PBX_SIP_PORT).")
@click.option("--rtp-ports", help="RTP port range such as 20000-29999 (PBX_RTP_PORTS).")
@click.option("--trunk-host", "trunk_hosts", multiple=True, help="Address the trunk calls from.")
@click.option("--trunk-address", help="host:port where calls to outside numbers go.")
@click.option(
    "--edge-host", "sip_edge_hosts", multiple=True,
    help="Address of the SIP edge (Kamailio) in front of this worker (PBX_SIP_EDGE_HOSTS).",
)  # fmt: skip
@click.option(
    "--stats",
    "stats_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the worker's figures (JSON) here when it stops (stats-N.json per worker).",
)
@click.option(
    "--workers", type=click.IntRange(1, 64), default=1, show_default=True,
    help="Worker processes, on consecutive ports from --port (after the edge's with --edge).",
)  # fmt: skip
@click.option("--edge", is_flag=True, help="Run Kamailio on --host:--port in front of them.")
@click.option("--probe-seconds", type=click.IntRange(1, 60), default=5, show_default=True,
              help="How often the edge probes each worker (OPTIONS).")  # fmt: skip
def serve(
    stats_path: Path | None, workers: int, edge: bool, probe_seconds: int, **options: Any
) -> None:
    """Serve SIP on UDP and TCP until stopped (Ctrl-C): one worker, or several behind the
    edge (`--workers 2 --edge`: Kamailio on the SIP port, the workers on the next ones)."""
    overrides = {
        {"host": "sip_host", "port": "sip_port"}.get(k, k): v
        for k, v in options.items() if v not in (None, ())
    }  # fmt: skip
    if workers > 1 or edge:
        settings = settings_from_env(**overrides)
        settings.require_secret_key()  # the workers need it: fail here, once
        try:
            fleet = start_fleet(settings, workers, edge=edge, stats_path=stats_path,
                                probe_seconds=probe_seconds, say=click.echo)  # fmt: skip
        except EdgeError as exc:
            raise click.ClickException(str(exc)) from None
        supervise(fleet, say=click.echo)
        return
    with runtime() as rt:
        worker = build_worker(rt, **overrides)
        asyncio.run(serve_forever(worker, _announce, stats_path))


def _announce(worker: PhoneWorker) -> None:
    trunk = ", ".join(worker.trunk.hosts) or "none"
    click.echo(
        f"SIP front on {worker.host}:{worker.port} (UDP and TCP), realm "
        f"{worker.switchboard.realm}; trunk from: {trunk}; Ctrl-C stops it."
    )


@phone.command("edge")
@click.option("--host", help="Address the edge listens on (PBX_SIP_HOST).")
@click.option("--port", type=click.IntRange(1, 65535), help="Its SIP port (PBX_SIP_PORT).")
@click.option("--worker", "workers", multiple=True, required=True,
              help="host:port of a call worker (repeat for each).")  # fmt: skip
@click.option("--trunk-host", "trunk_hosts", multiple=True, help="IP address of the trunk.")
@click.option("--trunk-address", help="host:port where calls to outside numbers go.")
@click.option("--probe-seconds", type=click.IntRange(1, 60), default=5, show_default=True)
def edge(
    host: str | None, port: int | None, workers: tuple[str, ...], trunk_hosts: tuple[str, ...],
    trunk_address: str | None, probe_seconds: int,
) -> None:  # fmt: skip
    """Run Kamailio (deploy/kamailio/kamailio.cfg) in front of workers started elsewhere
    (`pbx phone serve --edge-host EDGE`), until stopped."""
    settings = settings_from_env()
    plan = EdgePlan(
        host or settings.sip_host, port or settings.sip_port,
        tuple(_host_port(w) for w in workers), settings.data_dir / "edge",
        trunk_hosts or settings.trunk_hosts, trunk_address or settings.trunk_address,
        probe_seconds,
    )  # fmt: skip
    try:
        process = start_edge(plan)
    except EdgeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"edge (Kamailio, pid {process.pid}) on {plan.host}:{plan.port} in front of "
               f"{', '.join(workers)}; its log: {plan.run_dir / 'kamailio.log'}")  # fmt: skip
    supervise(Fleet(plan.host, edge=process, edge_port=plan.port), say=click.echo)


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"{text!r} is not host:port", param_hint="--worker")
    return host, int(port)


@phone.command("credentials")
@click.option("--tenant", "slug", required=True, help="The company (slug).")
@click.option("--extension", required=True, help="The user's extension.")
def credentials(slug: str, extension: str) -> None:
    """New SIP credentials for a user's phone (printed once; the old ones stop working)."""
    with runtime() as rt, rt.unit_of_work() as session:
        tenant = tenant_by_slug(session, slug)
        user = session.query(User).filter_by(tenant_id=tenant.id, extension=extension).one_or_none()
        if user is None:
            raise click.ClickException(f"no user with extension {extension} in {slug}")
        box = secret_box(rt.settings.require_secret_key())
        made = phones.issue_credentials(session, box, cli_actor(), user)
    click.echo(
        f"username: {made.username}\npassword: {made.password}\nrealm: {rt.settings.sip_realm}"
    )
