"""`pbx demo`: a fresh demo switchboard served on 127.0.0.1 (the site and the SIP front),
logins and phone credentials printed once."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path

import click

from admin_web.cli import demo_phone
from admin_web.cli.serve import run_gunicorn
from admin_web.runtime import Runtime
from pbx.config import load_settings

MARKER = ".vaxel-demo"
CONFIG_NAME = "vaxel.toml"


@click.group(invoke_without_command=True)
@click.pass_context
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Worker processes with PBX_REDIS_URL; without it one process with 4×N threads.",
)
@click.option("--data-dir", type=click.Path(path_type=Path), help="Default: $PBX_DATA_DIR/demo.")
@click.option("--calls-per-day", default=40, show_default=True, type=click.IntRange(0, 5000))
@click.option("--no-serve", is_flag=True, help="Set up and print the logins, then stop.")
@click.option(
    "--sip-port",
    default=5060,
    show_default=True,
    type=click.IntRange(1024, 65535),
    help="SIP front on 127.0.0.1 (a free port when this one is taken).",
)
def demo(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    data_dir: Path | None,
    calls_per_day: int,
    no_serve: bool,
    sip_port: int,
) -> None:
    """Fresh data directory, migrations, demo companies, then the site with gunicorn and
    the SIP front (`pbx phone serve`) on 127.0.0.1.

    `pbx demo breach` and `pbx demo media-loss` replay the two incidents instead."""
    if ctx.invoked_subcommand is not None:
        return
    data_dir = data_dir or Path(os.environ.get("PBX_DATA_DIR", "var")) / "demo"
    _fresh(data_dir)
    env = {
        "PBX_MODE": "demo",
        "PBX_DATA_DIR": str(data_dir.resolve()),
        "PBX_DATABASE_URL": f"sqlite:///{(data_dir / 'pbx.sqlite3').resolve()}",
        "PBX_SECRET_KEY": secrets.token_urlsafe(48),
        "PBX_PUBLIC_URL": f"http://{host}:{port}",
        "PBX_SIP_HOST": demo_phone.SIP_HOST,
        "PBX_SIP_PORT": str(demo_phone.pick_sip_port(sip_port)),
    }
    config = write_config(data_dir, env)
    settings = load_settings({**os.environ, **env})
    rt = Runtime.build(settings)
    try:
        click.echo(f"Växel demo: data in {data_dir}")
        rt.migrate()
        from fixtures.demo import load_demo
        from fixtures.demo_logins import issue_demo_logins
        from fixtures.demo_phones import issue_demo_phones

        click.echo(load_demo(rt, calls_per_day=calls_per_day, progress=True).summary())
        with rt.unit_of_work() as session:
            logins = issue_demo_logins(session, settings)
            phones = issue_demo_phones(session, settings)
    finally:
        rt.close()
    _print_logins(f"http://{host}:{port}/", logins)
    _print_walkthroughs(f"http://{host}:{port}/")
    click.echo(f"Serve this demo again (same key, same logins): PBX_CONFIG={config} pbx serve")
    if no_serve:
        demo_phone.print_how_to_call(phones, settings, config, running=None)
        return
    front = demo_phone.start_front(env)  # the SIP front in a child process, the site here
    try:
        running = demo_phone.wait_until_answering(front, settings.sip_port)
        demo_phone.print_how_to_call(phones, settings, config, running)
        run_gunicorn(host, port, workers, env, redis_url=settings.redis_url)
    finally:
        demo_phone.stop_front(front)


def write_config(data_dir: Path, env: dict[str, str]) -> Path:
    """The demo's settings, secret key included, as a config file in its data directory
    (owner-only): `PBX_CONFIG=<it> pbx serve` serves the same demo again, and the TOTP
    secrets encrypted under its key still decrypt."""
    path = data_dir.resolve() / CONFIG_NAME
    lines = ["# Written by `pbx demo`: PBX_CONFIG=this-file pbx serve"]
    # A JSON string is a valid TOML basic string.
    lines += [f"{k.removeprefix('PBX_').lower()} = {json.dumps(v)}" for k, v in env.items()]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


def _fresh(data_dir: Path) -> None:
    """Start from nothing, but only ever delete a directory an earlier demo made."""
    if data_dir.exists():
        if not (data_dir / MARKER).exists():
            raise click.ClickException(
                f"{data_dir} exists and is not a demo directory; choose another --data-dir"
            )
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    (data_dir / MARKER).write_text("made by `pbx demo`; deleted by the next `pbx demo`\n")


def _print_logins(url: str, logins: list) -> None:  # type: ignore[type-arg]
    click.echo("")
    click.echo(f"Admin site: {url}")
    click.echo("Demo logins (shown once; passwords are random for this run):")
    for login in logins:
        line = f"  {login.role:<14} {login.email:<38} password: {login.password}"
        if login.totp_secret:
            line += f"\n  {'':<14} TOTP secret (authenticator app): {login.totp_secret}"
        click.echo(line)
    click.echo(
        "Second factor: add the TOTP secret to an authenticator app, or run"
        " `pbx demo-code SECRET` in another terminal for the current code."
    )


def _print_walkthroughs(url: str) -> None:
    """Where each incident's walk-through starts in the site (issue 16 item 2)."""
    click.echo("")
    click.echo("Walk through the incidents in the site (sign in as the operator):")
    click.echo(f"  Play the incident:   {url}operator/demo/")
    click.echo("  Backup fault:        tick the companies, 'Spela upp backupfelet', then")
    click.echo(f"                       {url}operator/recovery (restore) and, as the")
    click.echo(f"                       company's admin, {url}library/ (the red crosses)")
    click.echo("  Account takeover:    'Spela upp kontokapningen', then the fraud scan on")
    click.echo(f"                       {url}operator/, {url}operator/forwarding,")
    click.echo(f"                       {url}operator/contain, {url}operator/affected-callers")


@click.command("demo-code")
@click.argument("secret")
def demo_code(secret: str) -> None:
    """Print the current TOTP code for a demo account's secret (like an authenticator app)."""
    import binascii
    import time

    from pbx.security.totp import Totp

    try:
        click.echo(Totp.code_at(secret.replace(" ", "").upper(), time.time()))
    except (binascii.Error, ValueError):
        raise click.ClickException("not a base32 TOTP secret") from None
