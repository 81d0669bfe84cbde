"""SIP benchmark: simultaneous IVR + voicemail calls at one call worker (issue 14), or
through the Kamailio edge at N worker processes (issue 15: `--via-kamailio --workers 1,2`).

SIPp plays the carrier trunk and places N calls at once to a demo company's main number
(127.0.0.1 only). Each call: INVITE → 200 → ACK → the welcome and the menu play → key 2 by
RFC 4733 (barge-in) → the customer-service menu → key 2 → a voicemail box → its greeting
and the beep → the caller speaks 4 s (RTP from a pcap) → BYE. The worker is a
real `pbx phone serve` process on SQLite; it writes its figures when it stops.

Printed per N: the worker's CPU ms per call-second, frames sent more than 20 ms and 40 ms
late (and skipped ticks), INVITE → 200 p50/p99, failed calls, voicemails stored. The largest
N that keeps p99 lateness ≤ 20 ms (≤ 1 % of frames more than 20 ms late) with 0 failed calls
is the result.

With `--via-kamailio`, SIPp calls the edge (`pbx phone serve --workers N --edge`, the shipped
deploy/kamailio/kamailio.cfg) and the figures are summed over the workers (CPU, frames) or
their worst (lateness); the edge's own CPU is printed beside them. The ratio of the largest N
with 2 workers to the largest with 1 is printed at the end.

    .venv/bin/python benchmarks/sip_bench.py [--calls 100,300,500] [--keep DIR]
    .venv/bin/python benchmarks/sip_bench.py --via-kamailio --workers 1,2 --calls 200,400
    .venv/bin/python benchmarks/sip_bench.py --via-kamailio --workers 1,2 --worker-cpu 0.35 ...

`--worker-cpu` gives every worker a CPU budget of its own (a cgroup each): the way to compare
1 and 2 workers on a small machine whose cores SIPp and Kamailio need too.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import secrets
import signal
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from pbx.sip.dtmf import key_packets

ROOT = Path(__file__).resolve().parent.parent
PBX = str(ROOT / ".venv" / "bin" / "pbx")
NUMBER = "+46852001000"
CALL_SECONDS = 13.0  # the scenario's length from ACK to BYE
SCENARIO = """<?xml version="1.0" encoding="UTF-8" ?>
<scenario name="ivr and voicemail">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
Max-Forwards: 70
From: <sip:+46701112233@[local_ip]:[local_port]>;tag=[pid]B[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:caller@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=sipp 1 1 IN IP4 [media_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
Max-Forwards: 70
From: <sip:+46701112233@[local_ip]:[local_port]>;tag=[pid]B[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Content-Length: 0

]]></send>
  <pause milliseconds="1000"/>
  <nop><action><exec play_pcap_audio="[key_a]"/></action></nop>
  <pause milliseconds="1500"/>
  <nop><action><exec play_pcap_audio="[key_b]"/></action></nop>
  <pause milliseconds="5000"/>
  <nop><action><exec play_pcap_audio="[speech_pcap]"/></action></nop>
  <pause milliseconds="5000"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
Max-Forwards: 70
From: <sip:+46701112233@[local_ip]:[local_port]>;tag=[pid]B[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ulaw(pcm: np.ndarray) -> bytes:
    """G.711 μ-law by the formula (the switchboard's own tables are not used here)."""
    x = np.clip(pcm.astype(np.int32), -32635, 32635)
    sign = (x < 0).astype(np.int32) << 7
    x = np.abs(x) + 0x84
    exponent = np.floor(np.log2(x)).astype(np.int32) - 7
    mantissa = (x >> (exponent + 3)) & 0x0F
    return bytes((~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8))


def speech_pcap(path: Path, seconds: float = 4.0) -> None:
    """A speech-like tone sequence as PCMU RTP in a pcap that SIPp can play."""
    t = np.arange(int(seconds * 8000)) / 8000
    pitch = 140 + 40 * np.sin(2 * np.pi * 0.7 * t)
    voice = np.sin(2 * np.pi * np.cumsum(pitch) / 8000) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    payload = ulaw((voice * 9000).astype(np.int16))
    packets = [
        struct.pack("!BBHII", 0x80, 0, i & 0xFFFF, i * 160, 0x1234)
        + payload[i * 160 : (i + 1) * 160]
        for i in range(len(payload) // 160)
    ]
    write_pcap(path, packets)


def key_pcap(path: Path, key: str, timestamp: int) -> None:
    """A key by RFC 4733 in a pcap. Each pcap gets its own RTP timestamp: a receiver takes
    packets with the timestamp of a key it already has for a repeat of that key."""
    write_pcap(path, key_packets(key, pt=101, seq=1000, timestamp=timestamp, ssrc=0x1234))


def write_pcap(path: Path, packets: list[bytes]) -> None:
    """RTP packets 20 ms apart as a classic pcap (Ethernet, IPv4, UDP) for SIPp."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, rtp in enumerate(packets):
        udp = struct.pack("!HHHH", 6000, 6002, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                         b"\x7f\0\0\x01", b"\x7f\0\0\x01") + udp  # fmt: skip
        frame = b"\0" * 12 + b"\x08\x00" + ip
        sec, usec = divmod(i * 20_000, 1_000_000)
        out.append(struct.pack("<IIII", 1_700_000_000 + sec, usec, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))


def prepare(work: Path) -> dict[str, str]:
    env = dict(os.environ, PBX_DATA_DIR=str(work / "data"), PBX_MODE="demo",
               PBX_SECRET_KEY=secrets.token_urlsafe(40), PBX_TTS_ENGINES="espeak",
               PBX_PASSWORD_HASH_PROFILE="test-only-fast")  # fmt: skip
    env.pop("PBX_DATABASE_URL", None)
    subprocess.run([PBX, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([PBX, "fixtures", "load", "demo", "--calls-per-day", "1"], env=env,
                   check=True, capture_output=True)  # fmt: skip
    (work / "bench.xml").write_text(SCENARIO)
    key_pcap(work / "key-a.pcap", "2", 16_000)
    key_pcap(work / "key-b.pcap", "2", 48_000)
    speech_pcap(work / "speech.pcap")
    return env


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sipp(work: Path, port: int, calls: int, rate_period_ms: int) -> tuple[str, list[float]]:
    """Run SIPp as the trunk; returns its output and the INVITE → 200 times (ms)."""
    for old in work.glob("bench_*_rtt.csv"):
        old.unlink()
    command = [
        "sipp", "-sf", str(work / "bench.xml"), "-s", NUMBER, "-i", "127.0.0.1",
        "-mi", "127.0.0.1", "-p", str(free_port()), "-m", str(calls), "-l", str(calls),
        "-r", str(calls), "-rp", str(rate_period_ms), "-nostdin", "-timeout", "120s",
        "-skip_rlimit", "-trace_rtt", "-rtt_freq", "1",
        "-key", "key_a", str(work / "key-a.pcap"), "-key", "key_b", str(work / "key-b.pcap"),
        "-key", "speech_pcap", str(work / "speech.pcap"), f"127.0.0.1:{port}",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=300)
    times: list[float] = []
    for path in work.glob("bench_*_rtt.csv"):
        with open(path) as fh:
            for row in csv.reader(fh, delimiter=";"):
                if len(row) >= 2 and re.fullmatch(r"[0-9.]+", row[1]):
                    times.append(float(row[1]))
    return done.stdout + done.stderr, times


def failed(output: str) -> int:
    match = re.search(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", output)
    return int(match.group(1)) if match else -1


def voicemails(work: Path) -> int:
    with sqlite3.connect(work / "data" / "pbx.sqlite3") as db:
        return int(db.execute("select count(*) from voicemail_messages").fetchone()[0])


def settled_voicemails(work: Path) -> int:
    """The voicemail count once it has stopped growing for a second (at most 10 s)."""
    count, deadline = voicemails(work), time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(1.0)
        if (now := voicemails(work)) == count:
            break
        count = now
    return count


def free_ports(count: int) -> int:
    """A port with the next count-1 free too (the edge's, then its workers')."""
    while True:
        base = free_port()
        if base + count < 65536 and all(_free(base + i) for i in range(count)):
            return base


def _free(port: int) -> bool:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def start(work: Path, env: dict[str, str], calls: int, workers: int) -> tuple[
    subprocess.Popen[str], int, list[int], int, list[Path]
]:  # fmt: skip
    """`pbx phone serve` (workers == 0: one worker, no edge; else N behind the edge). Returns
    the process, the port SIPp calls, the worker pids, the edge's pid (0: none), stats files."""
    stats = work / f"stats-{workers}w-{calls}.json"
    port = free_ports(workers + 1)
    command = [PBX, "phone", "serve", "--port", str(port), "--trunk-host", "127.0.0.1",
               "--stats", str(stats)]  # fmt: skip
    if workers:
        command += ["--workers", str(workers), "--edge", "--probe-seconds", "1"]
    out = work / f"serve-{workers}w-{calls}.out"
    with open(out, "w") as sink:
        process = subprocess.Popen(command, env=dict(env, PYTHONUNBUFFERED="1"), stdout=sink,
                                   stderr=subprocess.STDOUT, text=True)  # fmt: skip
    ready = "point the phones" if workers else "SIP front on"
    while ready not in (said := out.read_text()):
        if process.poll() is not None:
            raise SystemExit(f"pbx phone serve failed:\n{said}")
        time.sleep(0.1)
    if not workers:
        return process, port, [process.pid], 0, [stats]
    pids = [int(p) for p in re.findall(r"worker \d+: \S+ \(pid (\d+)", said)]
    edge = int(re.findall(r"Kamailio, pid (\d+)", said)[0])
    files = [stats.with_name(f"{stats.stem}-{n}{stats.suffix}") for n in range(1, workers + 1)]
    return process, port, pids, edge, files


def family_cpu(pid: int) -> float:
    """CPU of a process and its children (Kamailio forks its SIP workers)."""
    total = cpu_seconds(pid)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                total += cpu_seconds(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return total


CPU_CGROUPS = Path("/sys/fs/cgroup/cpu")  # cgroup v1's cpu controller (root only)
QUOTA_PERIOD_US = 10_000  # short periods: a worker over its budget waits ms, not 100 ms


def cap_cpu(pids: list[int], share: float) -> list[Path]:
    """Give each worker process a CPU budget of its own (`share` of one core, CFS quota), as
    if each ran on a small machine of its own. On a 2-core box that SIPp and Kamailio share,
    this is what lets 1 and 2 workers be compared: uncapped, two workers compete with the
    load generator for the same two cores."""
    groups = []
    for n, pid in enumerate(pids, 1):
        group = CPU_CGROUPS / f"vaxel-bench-worker-{n}"
        group.mkdir(exist_ok=True)
        (group / "cpu.cfs_period_us").write_text(str(QUOTA_PERIOD_US))
        (group / "cpu.cfs_quota_us").write_text(str(int(share * QUOTA_PERIOD_US)))
        # Within its budget a worker goes before SIPp's hundreds of threads, as it would on
        # a machine of its own (the quota is a ceiling; the weight makes it a floor too).
        (group / "cpu.shares").write_text("65536")
        (group / "cgroup.procs").write_text(str(pid))  # the process and all its threads
        groups.append(group)
    return groups


def throttled_ms(groups: list[Path]) -> float:
    """How long the workers were held back by their budget (summed)."""
    total = 0
    for group in groups:
        for line in (group / "cpu.stat").read_text().splitlines():
            if line.startswith("throttled_time "):
                total += int(line.split()[1])
    return total / 1e6


def release(groups: list[Path]) -> None:
    for group in groups:
        for _ in range(50):  # the processes leave the group when they exit
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.1)


def round_of(
    work: Path, env: dict[str, str], calls: int, workers: int = 0, cpu_share: float = 0.0
) -> dict[str, float]:
    process, port, pids, edge, stats = start(work, env, calls, workers)
    groups = cap_cpu(pids, cpu_share) if cpu_share else []
    throttled0 = throttled_ms(groups)
    try:
        sipp(work, port, 1, 1000)  # warm-up: prompts spoken once, snapshot built
        if workers > 1:
            sipp(work, port, workers - 1, 1000)  # every worker speaks its prompts once
        before_vm = settled_voicemails(work)  # the warm-up calls' boxes, written after BYE
        cpu0 = sum(cpu_seconds(p) for p in pids)
        edge0 = family_cpu(edge) if edge else 0.0
        wall = time.perf_counter()
        output, times = sipp(work, port, calls, max(1000, calls * 4))
        wall = time.perf_counter() - wall
        cpu = sum(cpu_seconds(p) for p in pids) - cpu0
        edge_cpu = family_cpu(edge) - edge0 if edge else 0.0
        throttled = throttled_ms(groups) - throttled0
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(120)
        release(groups)
    loaded = [json.loads(path.read_text())["media"] for path in stats]
    summed = ("frames_sent", "frames_late_20ms", "frames_late_40ms", "ticks_skipped")
    figures = {k: sum(f[k] for f in loaded) for k in summed}
    figures["max_late_ms"] = max(f["max_late_ms"] for f in loaded)
    sent = max(1, figures["frames_sent"])
    times.sort()
    return {
        "calls": calls,
        "failed": failed(output),
        "voicemails": settled_voicemails(work) - before_vm,
        "cpu_ms_per_call_second": 1000 * cpu / (calls * CALL_SECONDS),
        "late_20ms_pct": 100 * figures["frames_late_20ms"] / sent,
        "late_40ms_pct": 100 * figures["frames_late_40ms"] / sent,
        "max_late_ms": figures["max_late_ms"],
        "ticks_skipped": figures["ticks_skipped"],
        "invite_200_p50_ms": statistics.median(times) if times else float("nan"),
        "invite_200_p99_ms": times[int(0.99 * (len(times) - 1))] if times else float("nan"),
        "wall_s": wall,
        "edge_cpu_ms_per_call_second": 1000 * edge_cpu / (calls * CALL_SECONDS),
        "load_1min": os.getloadavg()[0],
        "throttled_ms": throttled,
    }


HEADER = ("calls", "failed", "voicemails", "cpu_ms_per_call_second", "late_20ms_pct",
          "late_40ms_pct", "max_late_ms", "ticks_skipped", "invite_200_p50_ms",
          "invite_200_p99_ms", "wall_s", "edge_cpu_ms_per_call_second", "load_1min",
          "throttled_ms")  # fmt: skip


def series(
    work: Path, env: dict[str, str], counts: list[int], workers: int, cpu_share: float = 0.0
) -> int:
    """Rounds of growing N; the largest that held p99 lateness <= 20 ms with none failed."""
    best = 0
    for calls in counts:
        row = round_of(work, env, calls, workers, cpu_share)
        print(" | ".join(f"{row[k]:.2f}" if isinstance(row[k], float) else str(row[k])
                         for k in HEADER), flush=True)  # fmt: skip
        if row["failed"] == 0 and row["late_20ms_pct"] <= 1.0:
            best = calls
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", default="100,200,300,400,500,600")
    parser.add_argument("--keep", type=Path, help="Work in this directory and keep it.")
    parser.add_argument("--via-kamailio", action="store_true",
                        help="Call through the Kamailio edge in front of the workers.")  # fmt: skip
    parser.add_argument("--workers", default="1", help="With --via-kamailio: e.g. 1,2.")
    parser.add_argument("--worker-cpu", type=float, default=0.0,
                        help="Cap each worker at this share of one core (e.g. 0.35; root, "
                             "cgroup v1 cpu controller).")  # fmt: skip
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="sip-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = prepare(work)
    counts = [int(n) for n in args.calls.split(",")]
    if not args.via_kamailio:
        print(f"work dir {work}; worker: pbx phone serve (SQLite); SIPp as the trunk")
        print(" | ".join(HEADER))
        best = series(work, env, counts, 0, args.worker_cpu)
        print(f"largest N with p99 lateness <= 20 ms and 0 failed calls: {best}")
        return
    found = {}
    for workers in [int(n) for n in args.workers.split(",")]:
        print(f"work dir {work}; {workers} worker(s) behind Kamailio (SQLite); SIPp as the trunk")
        print(" | ".join(HEADER))
        found[workers] = series(work, env, counts, workers, args.worker_cpu)
        print(f"{workers} worker(s): largest N with p99 lateness <= 20 ms, 0 failed: "
              f"{found[workers]}", flush=True)  # fmt: skip
    if found.get(1) and 2 in found:
        print(f"ratio 2 workers / 1: {found[2] / found[1]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
