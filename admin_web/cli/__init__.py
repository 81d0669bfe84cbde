"""The `pbx` command line. Each feature adds its commands in a module of this package."""

from __future__ import annotations

import sys
from typing import Any

import click

from admin_web.cli.accounts import audit  # also adds the accounts commands to `users`
from admin_web.cli.backup import register_backup_commands
from admin_web.cli.base import PbxGroup
from admin_web.cli.callback import callback
from admin_web.cli.calllog import calllog
from admin_web.cli.calls import call
from admin_web.cli.db import db
from admin_web.cli.demo import demo, demo_code
from admin_web.cli.fixtures import fixtures
from admin_web.cli.fraud import fraud
from admin_web.cli.hours import dnd, hours_group
from admin_web.cli.incident_demo import register_demo_commands
from admin_web.cli.incident_register import incident  # with its `register` group
from admin_web.cli.listing import numbers, tenants, users
from admin_web.cli.messages import messages
from admin_web.cli.phone import phone
from admin_web.cli.serve import serve
from admin_web.cli.site_admin import voicemail  # also numbers add/remove, users import, stats
from admin_web.cli.traffic import traffic_group


@click.group(cls=PbxGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vaxel", prog_name="pbx")
def cli() -> None:
    """Växel: the switchboard and its administration site.

    Configuration comes from PBX_* environment variables (see README): PBX_DATA_DIR,
    PBX_DATABASE_URL, PBX_SECRET_KEY, PBX_MODE, PBX_MEDIA_STORE, PBX_REDIS_URL.
    """


for command in (db, fixtures, serve, demo, demo_code, tenants, numbers, users):
    cli.add_command(command)
register_backup_commands(cli)
cli.add_command(audit)
cli.add_command(calllog)
cli.add_command(call)
cli.add_command(callback)
cli.add_command(traffic_group)
cli.add_command(fraud)
cli.add_command(hours_group)
cli.add_command(dnd)
cli.add_command(incident)
register_demo_commands(demo, incident)
cli.add_command(messages)
cli.add_command(phone)
cli.add_command(voicemail)


def main(argv: list[str] | None = None) -> Any:
    return (
        cli.main(args=argv, prog_name="pbx", standalone_mode=True) if argv else cli(prog_name="pbx")
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
