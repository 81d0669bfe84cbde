"""`pbx phone`: the SIP/RTP front (real phones and the carrier trunk) and phone credentials."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from admin_web.cli.base import runtime
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
    "--stats",
    "stats_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the worker's figures (JSON) here when it stops.",
)
def serve(stats_path: Path | None, **options: Any) -> None:
    """Serve SIP on UDP and TCP until stopped (Ctrl-C)."""
    overrides = {
        {"host": "sip_host", "port": "sip_port"}.get(k, k): v
        for k, v in options.items() if v not in (None, ())
    }  # fmt: skip
    with runtime() as rt:
        worker = build_worker(rt, **overrides)
        asyncio.run(serve_forever(worker, _announce, stats_path))


def _announce(worker: PhoneWorker) -> None:
    trunk = ", ".join(worker.trunk.hosts) or "none"
    click.echo(
        f"SIP front on {worker.host}:{worker.port} (UDP and TCP), realm "
        f"{worker.switchboard.realm}; trunk from: {trunk}; Ctrl-C stops it."
    )


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
