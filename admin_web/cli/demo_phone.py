"""The SIP front of `pbx demo`: a child process running `pbx phone serve` on 127.0.0.1 beside
the site, on port 5060 or (when that is taken) a free one, and the lines that tell a person
how to call the demo from baresip or Linphone.

A child process rather than a thread: the site runs under gunicorn, which forks; the front
keeps its own event loop and media tick, exactly as `pbx phone serve` runs in production.
It is stopped when the demo stops (and, sharing the demo's process group, with Ctrl-C).
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import click

from fixtures.demo_phones import DemoPhones
from pbx.config import Settings
from pbx.services.people.phone_setup import PhoneSetup

SIP_HOST = "127.0.0.1"  # loopback: the demo's front is never reachable from the network
PBX = [sys.executable, "-c", "from admin_web.cli import main; main()"]


def pick_sip_port(wanted: int, host: str = SIP_HOST) -> int:
    """`wanted` when it is free on UDP and TCP, else a free port (said on the terminal)."""
    if _free(host, wanted):
        return wanted
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = int(udp.getsockname()[1])
        if _free(host, port):
            click.echo(f"Port {wanted} is taken: the demo's SIP front uses {port} instead.")
            return port
    raise click.ClickException("no free port for the SIP front")


def _free(host: str, port: int) -> bool:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def start_front(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`pbx phone serve` with the demo's settings, its output on the demo's terminal."""
    import os

    return subprocess.Popen([*PBX, "phone", "serve"], env={**os.environ, **env})


def wait_until_answering(
    front: subprocess.Popen[bytes], port: int, timeout: float = 60.0, host: str = SIP_HOST
) -> bool:
    """Whether the front answers a SIP OPTIONS within `timeout` (False: it stopped or hangs)."""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        probe.settimeout(0.5)
        while time.monotonic() < deadline and front.poll() is None:
            probe.sendto(_options(host, port, int(probe.getsockname()[1])), (host, port))
            with contextlib.suppress(TimeoutError, ConnectionRefusedError):
                if probe.recv(4096).startswith(b"SIP/2.0 200"):
                    return True
            time.sleep(0.2)
    return False


def _options(host: str, port: int, local_port: int) -> bytes:
    branch, tag, call_id = (secrets.token_hex(8) for _ in range(3))
    return (
        f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {host}:{local_port};branch=z9hG4bK{branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:demo@{host}>;tag={tag}\r\n"
        f"To: <sip:{host}:{port}>\r\n"
        f"Call-ID: {call_id}@{host}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "User-Agent: pbx-demo\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def stop_front(front: subprocess.Popen[bytes]) -> None:
    if front.poll() is None:
        front.terminate()
        try:
            front.wait(10)
        except subprocess.TimeoutExpired:
            front.kill()
            front.wait()


def print_how_to_call(
    made: DemoPhones, settings: Settings, config: Path, running: bool | None
) -> None:
    """The demo phones' credentials (shown once) and what they can dial. `running`: the
    front answers (True), failed to start (False), was not started (None, --no-serve)."""
    port = settings.sip_port
    click.echo("")
    where = f"{SIP_HOST}:{port} (UDP and TCP), realm {settings.sip_realm}"
    state = {
        True: "",
        False: " — did NOT start (see above); the site runs without it",
        None: " — not started (--no-serve)",
    }[running]
    click.echo(f"SIP front: {where}{state}")
    click.echo(
        f"Phones of {made.company} (shown once; new ones under Mina inställningar / Telefon):"
    )
    for phone in made.phones:
        setup = PhoneSetup(phone.credentials, SIP_HOST, port, settings.sip_realm)
        click.echo(f"  {phone.name}, extension {phone.extension}")
        click.echo(f"    baresip (~/.baresip/accounts): {setup.baresip_account()}")
        click.echo(
            f"    Linphone: username {setup.username}, password {setup.password}, "
            f"domain {setup.server}, transport UDP"
        )
    click.echo("Dial from a registered phone (internal calls; the trunk is not used):")
    for e164, label in made.numbers:
        click.echo(f"  {e164:<14} {label or 'company number'}, answered as a call from outside")
    extensions = ", ".join(p.extension for p in made.phones)
    click.echo(f"  {extensions:<14} the other demo phone (rings every phone registered for it)")
    click.echo("  333            voicemail: 5 record a greeting, 0 ends, 4 listen, 6 delete")
    click.echo(
        "Other companies' numbers would leave through the trunk (PBX_TRUNK_ADDRESS), which the "
        "demo has none of."
    )
    click.echo(f"Serve this demo's phones again: PBX_CONFIG={config} pbx phone serve")
