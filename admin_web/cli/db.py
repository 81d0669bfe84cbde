"""`pbx db …`: schema migrations."""

from __future__ import annotations

import click

from admin_web.cli.base import settings_from_env
from admin_web.runtime import Runtime


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    rt = Runtime.build(settings_from_env())
    try:
        rt.migrate()
        click.echo(f"database at {rt.engine.url.render_as_string(hide_password=True)} is current")
    finally:
        rt.close()
