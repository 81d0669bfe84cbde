"""Real peers for the edge tests, all on 127.0.0.1: an async UDP peer, a TCP peer, SIPp as a
subprocess, and a pcap writer so SIPp can stream RTP we generated."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar, cast

T = TypeVar("T")
SCENARIOS = Path(__file__).parent / "scenarios"
LOOPBACK = "127.0.0.1"


def run(coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    """Run one test's coroutine on a fresh event loop, with a hard time limit."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


class UdpPeer(asyncio.DatagramProtocol):
    """A UDP socket on 127.0.0.1 whose datagrams land in a queue."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def open(cls, port: int = 0) -> UdpPeer:
        loop = asyncio.get_running_loop()
        _, peer = await loop.create_datagram_endpoint(cls, local_addr=(LOOPBACK, port))
        return peer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queue.put_nowait((data, addr))

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def send(self, data: bytes, port: int) -> None:
        assert self.transport is not None
        self.transport.sendto(data, (LOOPBACK, port))

    async def recv(self, timeout: float = 2.0) -> bytes:
        data, _ = await asyncio.wait_for(self.queue.get(), timeout)
        return data

    async def nothing(self, wait: float = 0.3) -> bool:
        """True when nothing arrives within `wait` seconds."""
        try:
            await asyncio.wait_for(self.queue.get(), wait)
        except TimeoutError:
            return True
        return False

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def sipp(scenario: str, target_port: int, *args: str, timeout: int = 20) -> str:
    """Run SIPp with a scenario against 127.0.0.1:`target_port`; returns its output and
    raises AssertionError with it when SIPp reports a failed call."""
    command = [
        "sipp", "-sf", str(SCENARIOS / scenario), "-m", "1", "-i", LOOPBACK, "-mi", LOOPBACK,
        "-p", "0", "-nostdin", "-timeout", f"{timeout}s", "-timeout_error", "-skip_rlimit",
        *args, f"{LOOPBACK}:{target_port}",
    ]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    text = out.decode(errors="replace") + err.decode(errors="replace")
    assert process.returncode == 0, f"SIPp failed ({process.returncode}):\n{text[-3000:]}"
    return text


def write_pcap(path: Path, rtp_packets: list[bytes], *, sport: int, dport: int) -> None:
    """A classic pcap (Ethernet, IPv4, UDP) of RTP packets 20 ms apart, as SIPp's
    `play_pcap_audio` reads it."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, rtp in enumerate(rtp_packets):
        udp = struct.pack("!HHHH", sport, dport, 8 + len(rtp), 0) + rtp
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
            bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]),
        ) + udp  # fmt: skip
        frame = b"\x00" * 12 + b"\x08\x00" + ip
        seconds, micros = divmod(1_000_000_000 * 1_000_000 + i * 20_000, 1_000_000)
        out.append(struct.pack("<IIII", seconds, micros, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))
