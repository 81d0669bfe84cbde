"""SIP benchmark: simultaneous IVR + voicemail calls at ONE call worker (issue 14).

SIPp plays the carrier trunk and places N calls at once to a demo company's main number
(127.0.0.1 only). Each call: INVITE → 200 → ACK → the welcome and the menu play → key 1 by
RFC 4733 (barge-in) → the queue's phones are not registered → overflow to a voicemail box →
its greeting and the beep → the caller speaks 4 s (RTP from a pcap) → BYE. The worker is a
real `pbx phone serve` process on SQLite; it writes its figures when it stops.

Printed per N: the worker's CPU ms per call-second, frames sent more than 20 ms and 40 ms
late (and skipped ticks), INVITE → 200 p50/p99, failed calls, voicemails stored. The largest
N that keeps p99 lateness ≤ 20 ms (≤ 1 % of frames more than 20 ms late) with 0 failed calls
is the result.

    .venv/bin/python benchmarks/sip_bench.py [--calls 100,300,500] [--keep DIR]
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

ROOT = Path(__file__).resolve().parent.parent
PBX = str(ROOT / ".venv" / "bin" / "pbx")
NUMBER = "+46852001000"
CALL_SECONDS = 12.5  # the scenario's length from ACK to BYE
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
  <recv response="200" rtd="true"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
Max-Forwards: 70
From: <sip:+46701112233@[local_ip]:[local_port]>;tag=[pid]B[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Content-Length: 0

]]></send>
  <pause milliseconds="1000"/>
  <nop><action><exec play_pcap_audio="[dtmf_pcap]"/></action></nop>
  <pause milliseconds="6500"/>
  <nop><action><exec play_pcap_audio="[speech_pcap]"/></action></nop>
  <pause milliseconds="5000"/>
  <send retrans="500"><![CDATA[
BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
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
        "-key", "dtmf_pcap", "/usr/share/sip-tester/dtmf_2833_1.pcap",
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


def round_of(work: Path, env: dict[str, str], calls: int) -> dict[str, float]:
    port = free_port()
    stats = work / f"stats-{calls}.json"
    worker = subprocess.Popen(
        [PBX, "phone", "serve", "--port", str(port), "--trunk-host", "127.0.0.1",
         "--stats", str(stats)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert worker.stdout is not None
        worker.stdout.readline()  # "SIP front on ..."
        sipp(work, port, 1, 1000)  # warm-up: prompts spoken once, snapshot built
        before_vm, cpu0 = voicemails(work), cpu_seconds(worker.pid)
        wall = time.perf_counter()
        output, times = sipp(work, port, calls, max(1000, calls * 4))
        wall = time.perf_counter() - wall
        cpu = cpu_seconds(worker.pid) - cpu0
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)
    figures = json.loads(stats.read_text())["media"]
    sent = max(1, figures["frames_sent"])
    times.sort()
    return {
        "calls": calls,
        "failed": failed(output),
        "voicemails": voicemails(work) - before_vm,
        "cpu_ms_per_call_second": 1000 * cpu / (calls * CALL_SECONDS),
        "late_20ms_pct": 100 * figures["frames_late_20ms"] / sent,
        "late_40ms_pct": 100 * figures["frames_late_40ms"] / sent,
        "max_late_ms": figures["max_late_ms"],
        "ticks_skipped": figures["ticks_skipped"],
        "invite_200_p50_ms": statistics.median(times) if times else float("nan"),
        "invite_200_p99_ms": times[int(0.99 * (len(times) - 1))] if times else float("nan"),
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", default="100,200,300,400,500,600")
    parser.add_argument("--keep", type=Path, help="Work in this directory and keep it.")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="sip-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = prepare(work)
    print(f"work dir {work}; worker: pbx phone serve (SQLite); SIPp as the trunk")
    header = ("calls", "failed", "voicemails", "cpu_ms_per_call_second", "late_20ms_pct",
              "late_40ms_pct", "max_late_ms", "ticks_skipped", "invite_200_p50_ms",
              "invite_200_p99_ms", "wall_s")  # fmt: skip
    print(" | ".join(header))
    best = 0
    for calls in [int(n) for n in args.calls.split(",")]:
        row = round_of(work, env, calls)
        print(" | ".join(f"{row[k]:.2f}" if isinstance(row[k], float) else str(row[k])
                         for k in header), flush=True)  # fmt: skip
        if row["failed"] == 0 and row["late_20ms_pct"] <= 1.0:
            best = calls
    print(f"largest N with p99 lateness <= 20 ms and 0 failed calls: {best}")


if __name__ == "__main__":
    sys.exit(main())
