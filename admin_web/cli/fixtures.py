"""`pbx fixtures load demo`: the demo companies."""

from __future__ import annotations

import click

from admin_web.cli.base import emit_json, json_option, runtime


@click.group()
def fixtures() -> None:
    """Demo data."""


@fixtures.command("load")
@click.argument("name", type=click.Choice(["demo"]))
@click.option("--calls-per-day", default=40, show_default=True, help="Call-log history density.")
@json_option
def load(name: str, calls_per_day: int, as_json: bool) -> None:
    """Load the demo companies (idempotent: an existing demo company is left as it is)."""
    from fixtures.demo import DEMO_STEPS, load_demo

    with runtime() as rt:
        if as_json:
            result = load_demo(rt, calls_per_day=calls_per_day)
        else:
            with click.progressbar(length=DEMO_STEPS, label="Loading demo companies") as bar:
                result = load_demo(
                    rt, calls_per_day=calls_per_day, progress=lambda _, n: bar.update(n)
                )
    if as_json:
        emit_json(result.as_dict())
    else:
        click.echo(result.summary())
