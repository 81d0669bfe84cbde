"""Several call workers behind the SIP edge: `pbx phone serve --workers N [--edge]` and
`pbx phone edge`.

The edge is Kamailio run from the shipped `deploy/kamailio/kamailio.cfg`; what differs
between machines (addresses, the workers, the trunk) is written into two small lists and
passed as pre-processor defines (`kamailio -A NAME=VALUE`), so the file itself is never
edited. The workers are `pbx phone serve` processes on consecutive ports, each with its own
slice of the RTP ports, all on the same database (registrations are rows there).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pbx.config import ConfigError, Settings, rtp_port_range

CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "kamailio" / "kamailio.cfg"
KAMAILIO = "/usr/sbin/kamailio"
PBX = ("-c", "import sys; from admin_web.cli import main; sys.exit(main())")


class EdgeError(Exception):
    """The edge or a worker could not be started; the message says why."""


@dataclass(frozen=True)
class EdgePlan:
    """Kamailio on host:port in front of `workers` (host, port)."""

    host: str
    port: int
    workers: tuple[tuple[str, int], ...]
    run_dir: Path
    trunk_hosts: tuple[str, ...] = ()
    trunk_address: str = ""  # host:port of the carrier, for calls to outside numbers
    probe_seconds: int = 5
    config: Path = CONFIG

    def defines(self) -> list[str]:
        """The `-A` defines that fill in the shipped configuration."""
        values = {
            "EDGE_UDP": f"udp:{self.host}:{self.port}",
            "EDGE_TCP": f"tcp:{self.host}:{self.port}",
            "WORKER_LIST": f'"{self.run_dir / "workers.list"}"',
            "TRUNK_LIST": f'"{self.run_dir / "trunks.list"}"',
            "PROBE_SECONDS": str(self.probe_seconds),
            "CTL_SOCKET": f'"unix:{self.run_dir / "ctl.sock"}"',
        }
        if self.trunk_address:
            values["TRUNK_URI"] = f'"sip:{self.trunk_address}"'
        return [arg for name, value in values.items() for arg in ("-A", f"{name}={value}")]

    def command(self, binary: str = KAMAILIO) -> list[str]:
        """Kamailio in the foreground, logging to stderr, its runtime files in run_dir."""
        return [binary, "-f", str(self.config), "-DD", "-E", "-Y", str(self.run_dir),
                "-P", str(self.run_dir / "kamailio.pid"), *self.defines()]  # fmt: skip


def write_lists(plan: EdgePlan) -> None:
    """The dispatcher's worker list (set 1) and the trunk's addresses (permissions group 1)."""
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    workers = "".join(f"1 sip:{host}:{port} 0 0\n" for host, port in plan.workers)
    (plan.run_dir / "workers.list").write_text(workers)
    trunks = "".join(_trunk_line(entry) for entry in plan.trunk_hosts)
    (plan.run_dir / "trunks.list").write_text(trunks or "# no trunk configured\n")


def _trunk_line(entry: str) -> str:
    host, port = entry, "0"
    if entry.count(":") == 1:
        host, port = entry.split(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(f"the edge needs the trunk's IP address, not {entry!r}") from None
    return f"1 {address} {address.max_prefixlen} {port} trunk\n"


def answering(host: str, port: int, timeout: float = 0.5) -> bool:
    """Does something answer an OPTIONS at host:port (UDP) with 200?"""
    branch = "z9hG4bK" + secrets.token_hex(8)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        here = sock.getsockname()[1]
        probe = (
            f"OPTIONS sip:{host}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {host}:{here};branch={branch}"
            f"\r\nMax-Forwards: 70\r\nFrom: <sip:probe@{host}>;tag={secrets.token_hex(4)}\r\n"
            f"To: <sip:{host}:{port}>\r\nCall-ID: {secrets.token_hex(8)}@probe\r\n"
            "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        )
        sock.settimeout(timeout)
        try:
            sock.sendto(probe.encode(), (host, port))
            return sock.recv(65535).startswith(b"SIP/2.0 200")
        except OSError:
            return False


def wait_answering(host: str, port: int, process: subprocess.Popen[str], seconds: float) -> None:
    end = time.monotonic() + seconds
    while not answering(host, port):
        if process.poll() is not None or time.monotonic() > end:
            raise EdgeError(f"nothing answers on {host}:{port} (exit code {process.poll()})")


def start_edge(plan: EdgePlan, binary: str | None = None) -> subprocess.Popen[str]:
    """Write the lists, start Kamailio and wait until it answers OPTIONS."""
    found = binary or shutil.which("kamailio") or KAMAILIO
    if not Path(found).exists():
        raise EdgeError("kamailio is not installed (scripts/bootstrap installs it)")
    write_lists(plan)
    with open(plan.run_dir / "kamailio.log", "w") as log:
        process = subprocess.Popen(plan.command(found), stdout=log, stderr=log, text=True)
    try:
        wait_answering(plan.host, plan.port, process, 15)
    except EdgeError:
        stop(process)
        tail = (plan.run_dir / "kamailio.log").read_text(errors="replace")[-1500:]
        raise EdgeError(f"Kamailio did not start:\n{tail}") from None
    return process


def stop(process: subprocess.Popen[str], seconds: float = 20) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


# --- a fleet of workers --------------------------------------------------------------


@dataclass
class WorkerProcess:
    number: int
    port: int
    rtp_ports: tuple[int, int]
    process: subprocess.Popen[str]
    log: Path


@dataclass
class Fleet:
    host: str
    workers: list[WorkerProcess] = field(default_factory=list)
    edge: subprocess.Popen[str] | None = None
    edge_port: int = 0

    def stop(self) -> None:
        for worker in self.workers:  # first the signal to all, then the waiting
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in self.workers:
            stop(worker.process, 60)
        if self.edge is not None:
            stop(self.edge)


def split_rtp(settings: Settings, count: int) -> list[tuple[int, int]]:
    """The RTP range in `count` equal slices (each worker needs ports of its own)."""
    low, high = rtp_port_range(settings)
    size = (high - low + 1) // count
    if size < 100:
        raise ConfigError(f"PBX_RTP_PORTS {settings.rtp_ports} is too small for {count} workers")
    return [(low + i * size, low + (i + 1) * size - 1) for i in range(count)]


def start_fleet(
    settings: Settings, count: int, *, edge: bool, stats_path: Path | None = None,
    probe_seconds: int = 5, say: Callable[[str], None] = print,
) -> Fleet:  # fmt: skip
    """`count` workers on consecutive ports after the edge's (or from sip_port without
    one), then Kamailio in front of them when `edge`."""
    host, first = settings.sip_host, settings.sip_port + (1 if edge else 0)
    fleet = Fleet(host, edge_port=settings.sip_port if edge else 0)
    run_dir = settings.data_dir / "edge"
    run_dir.mkdir(parents=True, exist_ok=True)
    env = _worker_env(settings, edge)
    try:
        for number, rtp in enumerate(split_rtp(settings, count), start=1):
            port = first + number - 1
            args = ["phone", "serve", "--host", host, "--port", str(port),
                    "--rtp-ports", f"{rtp[0]}-{rtp[1]}"]  # fmt: skip
            if stats_path is not None:
                args += ["--stats", str(numbered(stats_path, number))]
            log = run_dir / f"worker-{number}.log"
            with open(log, "w") as out:
                process = subprocess.Popen([sys.executable, *PBX, *args], env=env, stdout=out,
                                           stderr=subprocess.STDOUT, text=True)  # fmt: skip
            fleet.workers.append(WorkerProcess(number, port, rtp, process, log))
        for worker in fleet.workers:
            _wait_worker(worker)
            say(f"worker {worker.number}: {host}:{worker.port} (pid {worker.process.pid}, "
                f"RTP {worker.rtp_ports[0]}-{worker.rtp_ports[1]})")  # fmt: skip
        if edge:
            plan = EdgePlan(
                host, settings.sip_port, tuple((host, w.port) for w in fleet.workers),
                run_dir, settings.trunk_hosts, settings.trunk_address,
                probe_seconds,
            )  # fmt: skip
            fleet.edge = start_edge(plan)
            say(f"edge (Kamailio, pid {fleet.edge.pid}) on {host}:{settings.sip_port} "
                "(UDP and TCP): point the phones and the trunk here")  # fmt: skip
    except BaseException:
        fleet.stop()
        raise
    return fleet


def numbered(path: Path, number: int) -> Path:
    """stats.json → stats-1.json: one file of figures per worker."""
    return path.with_name(f"{path.stem}-{number}{path.suffix}")


def _worker_env(settings: Settings, edge: bool) -> dict[str, str]:
    env = dict(os.environ, PBX_TRUNK_HOSTS=",".join(settings.trunk_hosts), PYTHONUNBUFFERED="1")
    if edge:
        here = f"{settings.sip_host}:{settings.sip_port}"
        env["PBX_SIP_EDGE_HOSTS"] = here
        if settings.trunk_address:  # outside calls leave through the edge
            env["PBX_TRUNK_ADDRESS"] = here
    return env


def _wait_worker(worker: WorkerProcess, seconds: float = 60) -> None:
    """Until the worker says it serves (its first line), or it stops, or time runs out."""
    end = time.monotonic() + seconds
    while "SIP front on" not in (said := worker.log.read_text(errors="replace")):
        if worker.process.poll() is not None or time.monotonic() > end:
            raise EdgeError(f"worker {worker.number} did not start: {said.strip()[-1500:]}")
        time.sleep(0.05)


def supervise(fleet: Fleet, say: Callable[[str], None] = print) -> None:
    """Until SIGINT or SIGTERM: say when a worker stops (the edge's probes take it out of
    the rotation; the others go on), then stop them all."""
    stopping: list[int] = []
    previous = {sig: signal.signal(sig, lambda n, _: stopping.append(n))
                for sig in (signal.SIGINT, signal.SIGTERM)}  # fmt: skip
    running = {worker.number for worker in fleet.workers}
    try:
        while not stopping and running:
            time.sleep(0.2)
            for worker in fleet.workers:
                if worker.number in running and worker.process.poll() is not None:
                    running.discard(worker.number)
                    say(f"worker {worker.number} stopped (exit code {worker.process.returncode})")
            if fleet.edge is not None and fleet.edge.poll() is not None:
                say(f"the edge stopped (exit code {fleet.edge.returncode})")
                break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        fleet.stop()
