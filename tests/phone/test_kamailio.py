"""Kamailio in front of two call workers, started as an operator would: `pbx phone serve
--workers 2 --edge` (the shipped deploy/kamailio/kamailio.cfg, worker processes on the
test's SQLite database), 127.0.0.1 only.

SIPp plays the trunk through the edge: new calls are shared between the workers, every call
keeps its worker to the end (its ACK and BYE follow the route set; another worker would
answer the BYE with 481), and once a worker is stopped new calls go to the other with none
failed. A phone (baresip) registered through the edge is rung by either worker.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from admin_web.phone_edge import PBX, answering
from storage.models import PhoneRegistration
from tests.integration.switchboard_world import CALLER, ERIK_DIRECT, MAIN
from tests.phone.call_world import LOOPBACK, PhoneWorld
from tests.phone.real_peers import IN_CI, require, run, start_baresip, wait_for

RTP_PORTS = "30000-30999"  # the other phone tests use 29000-29999 and 31000-31999
PROBE_SECONDS = 1
SIPP_LOG = re.compile(r"worker (\d+) ")


def require_kamailio() -> None:
    if shutil.which("kamailio") is None and not Path("/usr/sbin/kamailio").exists():
        if IN_CI:
            pytest.fail("kamailio must be installed under CI (scripts/bootstrap installs it)")
        pytest.skip("kamailio is not installed (outside CI only)")


def three_free_ports() -> int:
    """An edge port with the next two free too (the workers take them), UDP and TCP."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((LOOPBACK, 0))
            base = int(probe.getsockname()[1])
        if base + 2 < 65536 and all(_free(base + i) for i in range(3)):
            return base
    raise AssertionError("no three consecutive free ports")


def _free(port: int) -> bool:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((LOOPBACK, port))
            except OSError:
                return False
    return True


@dataclass
class Deployment:
    """`pbx phone serve --workers 2 --edge` running; what it printed."""

    process: subprocess.Popen[str]
    edge_port: int
    worker_ports: dict[int, int]  # worker number → SIP port
    worker_pids: dict[int, int]
    out: Path

    def stop_worker(self, number: int) -> None:
        os.kill(self.worker_pids[number], signal.SIGTERM)
        deadline = time.monotonic() + 30
        while f"worker {number} stopped" not in self.out.read_text():
            assert time.monotonic() < deadline, self.out.read_text()
            time.sleep(0.05)

    def dispatcher(self, data_dir: Path) -> str:
        """The edge's view of its workers (kamcmd over its control socket)."""
        done = subprocess.run(
            [shutil.which("kamcmd") or "/usr/sbin/kamcmd", "-s",
             f"unix:{data_dir / 'edge' / 'ctl.sock'}", "dispatcher.list"],
            capture_output=True, text=True, timeout=10,
        )  # fmt: skip
        return done.stdout


@pytest.fixture
def deployment(world: PhoneWorld, tmp_path: Path) -> Iterator[Deployment]:
    require_kamailio()
    settings = world.runtime.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBX_")}
    env.update(
        PBX_MODE="test", PBX_DATA_DIR=str(settings.data_dir),
        PBX_DATABASE_URL=settings.database_url, PBX_SECRET_KEY=settings.secret_key,
        PBX_PASSWORD_HASH_PROFILE="test-only-fast", PBX_TTS_ENGINES="espeak",
        PBX_RTP_PORTS=RTP_PORTS,
    )  # fmt: skip
    port = three_free_ports()
    out = tmp_path / "serve.out"
    with out.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, *PBX, "phone", "serve", "--workers", "2", "--edge",
             "--host", LOOPBACK, "--port", str(port), "--probe-seconds", str(PROBE_SECONDS),
             "--trunk-host", f"{LOOPBACK}:{world.trunk_port}"],
            env=env, stdout=sink, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "point the phones and the trunk here" not in (said := out.read_text()):
            assert process.poll() is None and time.monotonic() < deadline, said
            time.sleep(0.05)
        found = re.findall(r"worker (\d): 127\.0\.0\.1:(\d+) \(pid (\d+)", said)
        yield Deployment(
            process, port, {int(n): int(p) for n, p, _ in found},
            {int(n): int(pid) for n, _, pid in found}, out,
        )  # fmt: skip
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def routed_call(number: str, pause_ms: int) -> str:
    """The trunk's call through the edge: INVITE; the 200's Contact names the worker (logged);
    ACK and BYE go to that Contact along the route set the edge recorded."""
    dialog = (
        f"From: <sip:{CALLER}@[local_ip]:[local_port]>;tag=[pid]K[call_number]\n"
        f"To: <sip:{number}@[remote_ip]:[remote_port]>"
    )
    in_dialog = f"""Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
Max-Forwards: 70
{dialog}[peer_tag_param]
Call-ID: [call_id]"""
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<scenario name="through the edge">
  <send retrans="500"><![CDATA[
INVITE sip:{number}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
Max-Forwards: 70
{dialog}
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:{CALLER}@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=trunk 1 1 IN IP4 [media_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true">
    <action>
      <ereg regexp="sip:vaxel@127.0.0.1:([0-9]+)" search_in="hdr" header="Contact:"
            assign_to="contact,port"/>
      <log message="worker [$port] [$contact]"/>
    </action>
  </recv>
  <send><![CDATA[
ACK [next_url] SIP/2.0
{in_dialog}
CSeq: 1 ACK
Content-Length: 0

]]></send>
  <pause milliseconds="{pause_ms}"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
{in_dialog}
CSeq: 2 BYE
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
"""


def trunk_calls(
    world: PhoneWorld, tmp: Path, edge_port: int, number: str, calls: int, pause_ms: int
) -> list[int]:
    """`calls` calls at once from the trunk through the edge; all must succeed (SIPp's exit
    code 0: every BYE answered 200). Returns the worker port of each call."""
    work = tmp / f"sipp-{time.monotonic_ns()}"
    work.mkdir()
    (work / "call.xml").write_text(routed_call(number, pause_ms))
    done = subprocess.run(
        [require("sipp"), "-sf", "call.xml", "-i", LOOPBACK, "-mi", LOOPBACK,
         "-p", str(world.trunk_port), "-m", str(calls), "-l", str(calls), "-r", str(calls),
         "-nostdin", "-skip_rlimit", "-timeout", "40s", "-timeout_error", "-trace_logs",
         "-trace_err", f"{LOOPBACK}:{edge_port}"],
        cwd=work, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    errors = "".join(p.read_text(errors="replace") for p in work.glob("*_errors.log"))
    assert done.returncode == 0, f"SIPp failed:\n{done.stdout[-2500:]}\n{errors[-3000:]}"
    logged = "".join(p.read_text() for p in work.glob("*_logs.log"))
    return [int(port) for port in SIPP_LOG.findall(logged)]


def test_calls_are_shared_keep_their_worker_and_fail_over(
    world: PhoneWorld, deployment: Deployment, tmp_path: Path
) -> None:
    ports = trunk_calls(world, tmp_path, deployment.edge_port, MAIN, calls=6, pause_ms=1500)
    assert len(ports) == 6
    assert sorted(set(ports)) == sorted(deployment.worker_ports.values())  # both took calls
    assert min(ports.count(p) for p in set(ports)) >= 2  # round robin: shared, not lopsided

    deployment.stop_worker(1)
    data_dir = world.runtime.settings.data_dir
    deadline = time.monotonic() + 10 * PROBE_SECONDS
    while "FLAGS: IP" not in deployment.dispatcher(data_dir):  # the probes saw it go
        assert time.monotonic() < deadline, deployment.dispatcher(data_dir)
        time.sleep(0.2)
    ports = trunk_calls(world, tmp_path, deployment.edge_port, MAIN, calls=6, pause_ms=500)
    assert ports == [deployment.worker_ports[2]] * 6


def test_a_phone_registered_through_the_edge_is_rung_by_either_worker(
    world: PhoneWorld, deployment: Deployment, tmp_path: Path
) -> None:
    made = world.credentials["102"]
    account = (
        f"<sip:{made.username}@{LOOPBACK}:{deployment.edge_port};transport=udp>"
        f";auth_pass={made.password};answermode=auto;regint=600;audio_codecs=PCMU"
    )
    mic = tmp_path / "mic.wav"
    _silence(mic)

    def registered() -> list[tuple[str, int]]:
        with world.session() as session:
            return [(r.host, r.port) for r in session.scalars(select(PhoneRegistration))]

    async def scenario() -> list[int]:
        phone = await start_baresip(tmp_path, mic, account)
        try:
            # the registration is a row that names the edge: the workers ring the phone there
            await wait_for(lambda: registered() == [(LOOPBACK, deployment.edge_port)], 10)
            ports = []
            for _ in range(2):  # consecutive new calls go to one worker, then the other
                ports += trunk_calls(
                    world, tmp_path, deployment.edge_port, ERIK_DIRECT, 1, pause_ms=800
                )
            await wait_for(lambda: _count(phone.events, "CALL_CLOSED") == 2, 15, "hang-ups")
            assert _count(phone.events, "CALL_ESTABLISHED") == 2
            return ports
        finally:
            await phone.stop()

    ports = run(scenario(), 90)
    assert sorted(ports) == sorted(deployment.worker_ports.values())


def _count(events: list[dict[str, object]], kind: str) -> int:
    return sum(1 for e in events if e.get("type") == kind)


def _silence(path: Path) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 8000 * 5)


def test_a_flood_is_cut_off_at_the_edge_but_the_trunk_is_not(
    world: PhoneWorld, deployment: Deployment
) -> None:
    """Pike: a source sending more than the limit (30 per 2 s) is banned; the trunk, whose
    volume is every company's calls, still gets through."""
    answered = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flood:
        flood.bind((LOOPBACK, 0))
        flood.settimeout(0.05)
        for i in range(120):
            flood.sendto(_options(deployment.edge_port, i, flood.getsockname()[1]),
                         (LOOPBACK, deployment.edge_port))  # fmt: skip
            try:
                answered += flood.recv(65535).startswith(b"SIP/2.0 200")
            except TimeoutError:
                pass
    assert 10 <= answered < 60, answered
    assert not answering(LOOPBACK, deployment.edge_port)  # the source is banned now
    ports = trunk_calls(world, Path(world.runtime.settings.data_dir), deployment.edge_port,
                        MAIN, calls=2, pause_ms=300)  # fmt: skip
    assert len(ports) == 2


def _options(port: int, n: int, here: int) -> bytes:
    return (
        f"OPTIONS sip:{LOOPBACK}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {LOOPBACK}:{here};branch=z9hG4bKflood{n}\r\nMax-Forwards: 70\r\n"
        f"From: <sip:flood@{LOOPBACK}>;tag=f{n}\r\nTo: <sip:{LOOPBACK}:{port}>\r\n"
        f"Call-ID: flood-{n}@{LOOPBACK}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ).encode()
