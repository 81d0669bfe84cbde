"""Real peers for the call tests, on 127.0.0.1 only: SIPp scenarios written by the test,
a packet capture on the loopback interface (dumpcap, the capture engine of tshark), and
baresip driven over its ctrl_tcp module.

A missing binary skips a test on a developer's machine but fails it under CI (`CI=true`),
where the bootstrap installs them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from pbx.sip import g711, rtp
from tests.phone.call_world import LOOPBACK, free_port
from tests.phone.peers import write_pcap  # noqa: F401 - one pcap writer, re-exported

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SIPP_PCAPS = Path("/usr/share/sip-tester")
T = TypeVar("T")
BARESIP_RTP = range(33000, 34000)
PCAP_SOURCE_PORT = 49176  # SIPp streams a pcap from its recorded source port (its key pcaps')


def require(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        if IN_CI:
            pytest.fail(f"{binary} must be installed under CI (scripts/bootstrap installs it)")
        pytest.skip(f"{binary} is not installed (outside CI only)")
    return path


def run(coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    """Run one test's coroutine on a fresh event loop, with a hard time limit."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def wait_for(check: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """Poll a condition every 10 ms (state of the worker in this process) until it holds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.01)


# --- SIPp ------------------------------------------------------------------------------


async def sipp(
    scenario: str, tmp: Path, target_port: int, *, local_port: int, timeout: int = 30,
    args: tuple[str, ...] = (),
) -> str:  # fmt: skip
    """Run one call of an XML scenario written by the test, from 127.0.0.1:`local_port`;
    raises AssertionError with SIPp's output and its error log when the call failed."""
    path = tmp / f"scenario-{local_port}.xml"
    path.write_text(scenario)
    command = [
        require("sipp"), "-sf", str(path), "-m", "1", "-i", LOOPBACK, "-mi", LOOPBACK,
        "-p", str(local_port), "-mp", str(free_port()), "-nostdin", "-skip_rlimit",
        "-timeout", f"{timeout}s", "-timeout_error", "-trace_err",
        "-error_file", str(tmp / "sipp-errors.log"), *args, f"{LOOPBACK}:{target_port}",
    ]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *command, cwd=tmp, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    text = out.decode(errors="replace")[-2000:] + err.decode(errors="replace")
    errors = tmp / "sipp-errors.log"
    if errors.exists():
        text += errors.read_text(errors="replace")[-3000:]
    assert process.returncode == 0, f"SIPp failed ({process.returncode}):\n{text}"
    return text


def pcmu_packets(pcm: np.ndarray, ssrc: int = 0x5EED) -> list[bytes]:
    """RTP packets (PCMU, 20 ms each) of 8 kHz samples, for a pcap SIPp streams."""
    payload = g711.ulaw_encode(pcm)
    return [
        rtp.build(0, 100 + i, 8000 + 160 * i, ssrc, payload[160 * i : 160 * i + 160])
        for i in range(len(payload) // 160)
    ]


# --- capture ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Packet:
    time: float
    sport: int
    dport: int
    data: bytes


@contextlib.asynccontextmanager
async def capture(tmp: Path, bpf: str) -> AsyncIterator[list[Packet]]:
    """Capture UDP on `lo` with a BPF filter while the block runs; the list fills in when
    it ends. dumpcap says "Capturing on" once it really captures: awaited, not slept."""
    path, packets = tmp / f"capture-{free_port()}.pcap", []
    process = await asyncio.create_subprocess_exec(
        require("dumpcap"), "-q", "-i", "lo", "-P", "-f", bpf, "-w", str(path),
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    banner = b""
    while b"Capturing on" not in banner:
        line = await asyncio.wait_for(process.stderr.readline(), 15)
        assert line, f"dumpcap did not start: {banner.decode(errors='replace')}"
        banner += line
    try:
        yield packets
    finally:
        await asyncio.sleep(0.2)  # let the last packets reach the file
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)
    packets += read_pcap(path)


def read_pcap(path: Path) -> list[Packet]:
    """UDP over IPv4 over Ethernet (Linux `lo`) from a classic pcap file."""
    data = path.read_bytes()
    packets, offset = [], 24
    while offset + 16 <= len(data):
        seconds, micros, length, _ = struct.unpack_from("<IIII", data, offset)
        frame = data[offset + 16 : offset + 16 + length]
        offset += 16 + length
        if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
            continue
        ihl = (frame[14] & 0x0F) * 4
        sport, dport = struct.unpack_from("!HH", frame, 14 + ihl)
        packets.append(Packet(seconds + micros / 1e6, sport, dport, frame[14 + ihl + 8 :]))
    return packets


@dataclass
class Segment:
    """Audio one side sent without a pause: it starts with a marker bit (RFC 3551)."""

    start: float  # capture time of its first packet
    end: float  # capture time of its last packet
    pcm: np.ndarray


def heard(packets: list[Packet], from_ports: range, codec: str = "PCMU") -> list[Segment]:
    """The voice the worker's RTP ports sent, decoded and cut where a marker bit says a new
    stretch of audio began."""
    segments: list[Segment] = []
    chunks: list[bytes] = []
    for packet in packets:
        if packet.sport not in from_ports or packet.dport in from_ports:
            continue
        parsed = rtp.parse(packet.data)
        if parsed.payload_type not in (0, 8):
            continue
        if parsed.marker or not segments:
            chunks = []
            segments.append(Segment(packet.time, packet.time, np.zeros(0, np.int16)))
        chunks.append(parsed.payload)
        segments[-1].end = packet.time
        segments[-1].pcm = g711.decode(codec, b"".join(chunks))
    return segments


def similarity(got: np.ndarray, master: np.ndarray, search: int = 1600) -> float:
    """Best normalised correlation of `got` with the start of `master`, over alignments of
    up to ±`search` samples (the first frame of a prompt may be cut or padded)."""
    best = 0.0
    x = got.astype(np.float64)
    y = master.astype(np.float64)
    for lag in range(-search, search + 1, 1):
        a = x[max(lag, 0) :]
        b = y[max(-lag, 0) :]
        n = min(len(a), len(b))
        if n < 800:
            continue
        a, b = a[:n], b[:n]
        denom = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
        if denom > 0:
            best = max(best, float(np.dot(a, b)) / denom)
    return best


def locate(part: np.ndarray, whole: np.ndarray) -> tuple[int, float]:
    """Where `part` sits in `whole` (FFT cross-correlation) and how well it matches there."""
    a = part.astype(np.float64)
    b = whole.astype(np.float64)
    size = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    corr = np.fft.irfft(np.fft.rfft(b, size) * np.conj(np.fft.rfft(a, size)), size)
    lag = int(np.argmax(corr[: len(b) - len(a) + 1]))
    window = b[lag : lag + len(a)]
    denom = float(np.sqrt(np.dot(a, a) * np.dot(window, window)))
    return lag, float(np.dot(a, window)) / denom if denom else 0.0


# --- baresip ---------------------------------------------------------------------------


@dataclass
class Baresip:
    """A baresip process with its own config directory, listening on 127.0.0.1 only."""

    home: Path
    sip_port: int
    ctrl_port: int
    process: asyncio.subprocess.Process | None = None
    events: list[dict[str, object]] = field(default_factory=list)
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None
    _pump: asyncio.Task[None] | None = None
    _replies: asyncio.Queue[dict[str, object]] = field(default_factory=asyncio.Queue)
    _new_event: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def recordings(self) -> list[Path]:
        """What baresip heard, decoded, as the sndfile module wrote it."""
        return sorted((self.home / "heard").glob("*-dec.wav"))

    async def command(self, command: str, params: str = "") -> dict[str, object]:
        assert self._writer is not None
        body = json.dumps({"command": command, "params": params, "token": command}).encode()
        self._writer.write(str(len(body)).encode() + b":" + body + b",")
        await self._writer.drain()
        return await asyncio.wait_for(self._replies.get(), 10)

    async def event(self, kind: str, timeout: float = 15.0) -> dict[str, object]:
        """The first event of `kind` (CALL_ESTABLISHED, REGISTER_OK, CALL_CLOSED...)."""

        async def seen() -> dict[str, object]:
            while True:
                for found in self.events:
                    if found.get("type") == kind:
                        return found
                self._new_event.clear()
                await self._new_event.wait()

        return await asyncio.wait_for(seen(), timeout)

    async def _read(self) -> None:
        assert self._reader is not None
        while True:
            length = await self._reader.readuntil(b":")
            body = await self._reader.readexactly(int(length[:-1]) + 1)
            message = json.loads(body[:-1])
            if message.get("event"):
                self.events.append(message)
                self._new_event.set()
            elif message.get("response"):
                self._replies.put_nowait(message)

    async def stop(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
        if self._writer is not None:
            self._writer.close()
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def baresip_config(home: Path, sip_port: int, ctrl_port: int, source: Path) -> None:
    (home / "heard").mkdir(parents=True, exist_ok=True)
    (home / "config").write_text(
        f"""poll_method epoll
sip_listen {LOOPBACK}:{sip_port}
net_interface 127.0.0.1
audio_source aufile,{source}
audio_player aubridge,nowhere
audio_alert aubridge,nowhere
ausrc_srate 8000
auplay_srate 8000
ausrc_channels 1
auplay_channels 1
rtp_ports {BARESIP_RTP.start}-{BARESIP_RTP.stop - 1}
audio_buffer 20-160
jitter_buffer_delay 0-4
module_path /usr/lib/baresip/modules
module stdio.so
module g711.so
module aufile.so
module aubridge.so
module sndfile.so
module_app account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen {LOOPBACK}:{ctrl_port}
snd_path {home / "heard"}
"""
    )
    (home / "contacts").write_text("")


async def start_baresip(
    tmp: Path, source: Path, account: str, ready: Callable[[Baresip], Awaitable[None]] | None = None
) -> Baresip:
    """Start baresip with one account line (`<sip:user@127.0.0.1:port>;auth_pass=...`)."""
    home = tmp / f"baresip-{free_port()}"
    phone = Baresip(home, free_port(), free_port())
    baresip_config(home, phone.sip_port, phone.ctrl_port, source)
    (home / "accounts").write_text(account + "\n")
    with (home / "log").open("wb") as log_file:  # the child keeps its own descriptor
        phone.process = await asyncio.create_subprocess_exec(
            require("baresip"), "-f", str(home), "-4", "-s",
            stdin=asyncio.subprocess.DEVNULL, stdout=log_file, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    for _ in range(200):  # ctrl_tcp listens once the modules are loaded
        try:
            phone._reader, phone._writer = await asyncio.open_connection(LOOPBACK, phone.ctrl_port)
            break
        except OSError:
            if phone.process.returncode is not None:
                break
            await asyncio.sleep(0.05)
    else:
        pass
    if phone._writer is None:
        log = (home / "log").read_text(errors="replace")
        await phone.stop()
        raise AssertionError(f"baresip did not start:\n{log[-3000:]}")
    phone._pump = asyncio.get_running_loop().create_task(phone._read())
    if ready is not None:
        await ready(phone)
    return phone
