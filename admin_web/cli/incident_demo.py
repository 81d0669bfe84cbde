"""`pbx demo breach|media-loss` (also `pbx incident demo …`): the two notices replayed end to
end. By default each runs in a fresh demo directory of its own (`$PBX_DATA_DIR/demo-breach`,
`…/demo-media-loss`, deleted only when an earlier demo made it); `--here` runs on the
configured database instead (migrating it and loading the demo companies if missing) —
which changes that database for real, so it is never the default."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from admin_web.cli.base import settings_from_env
from admin_web.cli.demo import _fresh
from admin_web.incident_demos.breach import run_breach
from admin_web.incident_demos.media_loss import run_media_loss
from admin_web.incident_demos.runner import DemoRun
from admin_web.runtime import Runtime
from pbx.config import load_settings


@contextmanager
def demo_runtime(name: str, data_dir: Path | None, here: bool) -> Iterator[Runtime]:
    if here:
        settings = settings_from_env()
    else:
        data_dir = data_dir or Path(os.environ.get("PBX_DATA_DIR", "var")) / name
        _fresh(data_dir)
        env = {
            "PBX_MODE": "demo",
            "PBX_DATA_DIR": str(data_dir.resolve()),
            "PBX_DATABASE_URL": f"sqlite:///{(data_dir / 'pbx.sqlite3').resolve()}",
            "PBX_SECRET_KEY": secrets.token_urlsafe(48),
        }
        settings = load_settings({**os.environ, **env})
    rt = Runtime.build(settings)
    try:
        rt.migrate()
        click.echo(f"{name}: database {settings.database_url.split('@')[-1]}")
        yield rt
    finally:
        rt.close()


def finish(run: DemoRun) -> None:
    click.echo("")
    click.echo(run.summary())
    if not run.ok:
        sys.exit(1)


here_option = click.option(
    "--here", is_flag=True, help="Run on the configured database (changes it for real)."
)
dir_option = click.option(
    "--data-dir", type=click.Path(path_type=Path), help="Default: $PBX_DATA_DIR/demo-<name>."
)
calls_option = click.option(
    "--calls-per-day",
    default=40,
    show_default=True,
    type=click.IntRange(1, 5000),
    help="Call history of the demo companies (when they are loaded).",
)
seed_option = click.option(
    "--seed",
    default=7,
    show_default=True,
    type=click.IntRange(0, 2**31),
    help="Fixes the demo's call history: the same seed replays the same run.",
)


@click.command("breach")
@dir_option
@here_option
@calls_option
@seed_option
@click.option("--fraud-calls", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the affected-caller CSV goes (default: the data directory).",
)
def breach(
    data_dir: Path | None,
    here: bool,
    calls_per_day: int,
    seed: int,
    fraud_calls: int,
    out: Path | None,
) -> None:
    """Account takeover → forwarding fraud → containment → resets → affected callers."""
    with demo_runtime("demo-breach", data_dir, here) as rt:
        target = out or rt.settings.data_dir / "incident-out"
        run = run_breach(
            rt, target, click.echo, fraud_calls=fraud_calls, calls_per_day=calls_per_day,
            seed=seed,
        )  # fmt: skip
    finish(run)


@click.command("media-loss")
@dir_option
@here_option
@calls_option
@seed_option
def media_loss(data_dir: Path | None, here: bool, calls_per_day: int, seed: int) -> None:
    """Backup → media deleted → scan → restore → text-to-speech → test calls play."""
    with demo_runtime("demo-media-loss", data_dir, here) as rt:
        run = run_media_loss(rt, click.echo, calls_per_day=calls_per_day, seed=seed)
    finish(run)


@click.group("demo")
def incident_demo() -> None:
    """The two incidents replayed end to end (same as `pbx demo breach|media-loss`)."""


def register_demo_commands(demo: click.Group, incident: click.Group) -> None:
    """`pbx demo breach|media-loss` and `pbx incident demo breach|media-loss`."""
    for group in (demo, incident_demo):
        group.add_command(breach)
        group.add_command(media_loss)
    incident.add_command(incident_demo)
