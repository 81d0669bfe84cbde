"""Media tick benchmark: N simulated calls each play a prompt through ONE media tick.

Every call gets a real `MediaEndpoint` (a UDP socket on 127.0.0.1) and plays the same 10 s
prompt master (converted to μ-law once, by its SHA-256) to UDP sinks on 127.0.0.1 that a
child process drains and counts. Printed per N: CPU ms of the worker process per
call-second of audio, frames sent, frames sent more than 20 ms / 40 ms after their due
time, the worst lateness, and how many packets the sinks got.

    .venv/bin/python benchmarks/media_tick_bench.py [--calls 100,300,500,800] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing as mp
import os
import selectors
import socket
import time
import wave
from multiprocessing.connection import Connection

import numpy as np

from pbx.phone.media import MediaConfig, MediaEngine
from pbx.sip.sdp import Codec, MediaChoice

SINKS = 8
RTP_PORTS = (40000, 43999)


def prompt_master(seconds: float) -> bytes:
    """A speech-like 8 kHz mono 16-bit WAV (two tones under a syllable-rate envelope)."""
    t = np.arange(int(8000 * seconds)) / 8000
    signal = np.sin(2 * np.pi * 300 * t) + 0.4 * np.sin(2 * np.pi * 1100 * t)
    pcm = (7000 * signal * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t))).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def sink_process(ready: Connection, stop: Connection) -> None:
    """Drain SINKS UDP sockets on 127.0.0.1 and report how many packets arrived."""
    selector = selectors.DefaultSelector()
    socks = []
    for _ in range(SINKS):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        socks.append(sock)
    ready.send([s.getsockname()[1] for s in socks])
    count = 0
    while not stop.poll():
        for key, _ in selector.select(0.05):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            while True:
                try:
                    sock.recv(2048)
                except BlockingIOError:
                    break
                count += 1
    stop.recv()
    stop.send(count)
    for sock in socks:
        sock.close()


async def run_calls(calls: int, seconds: float, sink_ports: list[int]) -> dict[str, float]:
    media = MediaEngine(MediaConfig(port_min=RTP_PORTS[0], port_max=RTP_PORTS[1]))
    await media.start()
    master = prompt_master(seconds)
    try:
        endpoints = [media.open_endpoint(f"bench-{i}") for i in range(calls)]
        for i, endpoint in enumerate(endpoints):
            port = sink_ports[i % len(sink_ports)]
            endpoint.use(MediaChoice(Codec(0, "PCMU"), None, "127.0.0.1", port, 20, "sendrecv"))
        await asyncio.sleep(0.1)  # let the tick settle before the clock starts
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for endpoint in endpoints:
            endpoint.play_master(master)
        await asyncio.gather(*(e.drained() for e in endpoints))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    finally:
        await media.close()
    stats = media.stats
    return {
        "cpu_ms_per_call_second": 1000 * cpu / (calls * seconds),
        "cpu_share": cpu / wall,
        "wall": wall,
        "frames_sent": stats.frames_sent,
        "late_20": stats.frames_late_20ms,
        "late_40": stats.frames_late_40ms,
        "max_late_ms": stats.max_late_ms,
        "ticks_skipped": stats.ticks_skipped,
        "max_tick_ms": stats.max_tick_ms,
        "conversions": media.prompts.conversions,
    }


def measure(calls: int, seconds: float) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    ready_parent, ready_child = ctx.Pipe()
    stop_parent, stop_child = ctx.Pipe()
    sink = ctx.Process(target=sink_process, args=(ready_child, stop_child), daemon=True)
    sink.start()
    try:
        ports = ready_parent.recv()
        figures = asyncio.run(run_calls(calls, seconds, ports))
        time.sleep(0.2)  # the last packets reach the sinks
        stop_parent.send("stop")
        figures["received"] = stop_parent.recv()
    finally:
        sink.join(5)
        for conn in (ready_parent, ready_child, stop_parent, stop_child):
            conn.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", default="100,300,500,800")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}; prompt {args.seconds:g} s PCMU")
    print(
        "calls  CPU ms/call-s  CPU share  frames sent  >20 ms  >40 ms  worst ms"
        "  longest tick ms  received"
    )
    for calls in (int(n) for n in args.calls.split(",")):
        f = measure(calls, args.seconds)
        print(
            f"{calls:5d}  {f['cpu_ms_per_call_second']:13.3f}  {100 * f['cpu_share']:8.1f}%"
            f"  {int(f['frames_sent']):11d}  {int(f['late_20']):6d}  {int(f['late_40']):6d}"
            f"  {f['max_late_ms']:8.1f}  {f['max_tick_ms']:15.1f}  {int(f['received']):8d}"
            + (f"  (skipped {int(f['ticks_skipped'])} ticks)" if f["ticks_skipped"] else "")
        )


if __name__ == "__main__":
    main()
