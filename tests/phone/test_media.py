"""Media endpoints and the single media tick, on real UDP sockets (127.0.0.1 only)."""

from __future__ import annotations

import asyncio
import io
import wave

import numpy as np
import pytest

from pbx.phone.errors import NoFreePort, RemoteAddressRefused
from pbx.phone.media import MediaConfig, MediaEngine
from pbx.phone.prompts import PromptFormatError, is_silent, tone_pcm
from pbx.sip import dtmf, g711, rtp
from pbx.sip.sdp import Codec, MediaChoice
from tests.phone.peers import LOOPBACK, UdpPeer, run

PORTS = (31000, 31999)  # tests' RTP range; the benchmark uses another


def master_wav(pcm: np.ndarray, rate: int = 8000, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.astype("<i2").tobytes())
    return buffer.getvalue()


def voice(seconds: float, freq: float = 500.0) -> np.ndarray:
    t = np.arange(int(8000 * seconds)) / 8000
    return (8000 * np.sin(2 * np.pi * freq * t) * np.sin(np.pi * t / seconds)).astype(np.int16)


def choice_to(port: int, codec: str = "PCMU") -> MediaChoice:
    pt = 0 if codec == "PCMU" else 8
    return MediaChoice(
        Codec(pt, codec), Codec(101, "telephone-event"), LOOPBACK, port, 20, "sendrecv"
    )


async def engine() -> MediaEngine:
    media = MediaEngine(MediaConfig(port_min=PORTS[0], port_max=PORTS[1]))
    await media.start()
    return media


async def collect(peer: UdpPeer, count: int) -> list[rtp.RtpPacket]:
    return [rtp.parse(await peer.recv(2)) for _ in range(count)]


@pytest.mark.parametrize("codec", ["PCMU", "PCMA"])
def test_a_played_master_arrives_paced_and_intact(codec: str) -> None:
    pcm = voice(1.0)

    async def scenario() -> None:
        media = await engine()
        sink = await UdpPeer.open()
        endpoint = media.open_endpoint("c1")
        try:
            endpoint.use(choice_to(sink.port, codec))
            endpoint.play_master(master_wav(pcm))
            endpoint.play_master(master_wav(pcm))  # the same master: converted once
            started = asyncio.get_running_loop().time()
            packets = await collect(sink, 100)
            took = asyncio.get_running_loop().time() - started
            await asyncio.wait_for(endpoint.drained(), 1)
            assert 1.8 < took < 2.4 and media.prompts.conversions == 1
            assert packets[0].marker and not any(p.marker for p in packets[1:])
            assert [p.sequence for p in packets] == [
                (packets[0].sequence + i) % 65536 for i in range(100)
            ]
            pairs = zip(packets, packets[1:], strict=False)
            steps = {rtp.ts_delta(b.timestamp, a.timestamp) for a, b in pairs}
            assert steps == {160} and {p.payload_type for p in packets} == {
                0 if codec == "PCMU" else 8
            }
            heard = g711.decode(codec, b"".join(p.payload for p in packets[:50]))
            assert np.corrcoef(heard.astype(float), pcm.astype(float))[0, 1] > 0.999
            assert media.stats.frames_sent == 100
        finally:
            sink.close()
            await media.close()

    run(scenario())


def test_stop_is_barge_in_and_drained_fires() -> None:
    async def scenario() -> None:
        media = await engine()
        sink = await UdpPeer.open()
        endpoint = media.open_endpoint()
        drained_calls: list[int] = []
        endpoint.on_drained = lambda: drained_calls.append(1)
        try:
            endpoint.use(choice_to(sink.port))
            endpoint.play_master(master_wav(voice(5.0)))
            waiting = endpoint.drained()
            await collect(sink, 5)
            assert not waiting.done()
            endpoint.stop()
            assert waiting.done() and drained_calls == [1]
            while not sink.queue.empty():
                sink.queue.get_nowait()
            assert await sink.nothing(0.1)
            endpoint.play_tone("beep")  # 400 ms
            t0 = asyncio.get_running_loop().time()
            await asyncio.wait_for(endpoint.drained(), 1)
            assert 0.3 < asyncio.get_running_loop().time() - t0 < 0.55
            assert drained_calls == [1, 1]
            first = rtp.parse(await sink.recv())
            assert first.marker  # talk spurt after a pause
            assert endpoint.drained().done()  # nothing queued
        finally:
            sink.close()
            await media.close()

    run(scenario())


def test_ringback_loops_until_stopped() -> None:
    async def scenario() -> None:
        media = await engine()
        sink = await UdpPeer.open()
        endpoint = media.open_endpoint()
        try:
            endpoint.use(choice_to(sink.port))
            endpoint.play_tone("ringback")
            await asyncio.sleep(0.2)
            assert endpoint.playing and not endpoint.drained().done()
            endpoint.stop()
            assert not endpoint.playing
        finally:
            sink.close()
            await media.close()

    run(scenario())


def test_capture_keys_and_symmetric_rtp() -> None:
    sent = voice(0.6)
    payload = g711.ulaw_encode(sent)

    async def scenario() -> None:
        media = await engine()
        phone, intruder = await UdpPeer.open(), await UdpPeer.open()
        endpoint = media.open_endpoint()
        keys: list[str] = []
        endpoint.on_key = keys.append
        try:
            endpoint.use(choice_to(40000))  # the SDP said 40000; the phone sends from elsewhere
            endpoint.start_capture()
            for i in range(len(payload) // 160):
                phone.send(
                    rtp.build(0, i, 160 * i, 7, payload[160 * i : 160 * i + 160]),
                    endpoint.local_port,
                )
                intruder.send(rtp.build(0, i, 160 * i, 8, b"\x00" * 160), endpoint.local_port)
                if i % 10 == 0:
                    await asyncio.sleep(0.005)
            for packet in dtmf.key_packets("4", pt=101, seq=500, timestamp=99_000, ssrc=7):
                phone.send(packet, endpoint.local_port)
                intruder.send(packet.replace(b"\x04", b"\x09", 1), endpoint.local_port)
            phone.send(b"garbage", endpoint.local_port)
            await asyncio.sleep(0.2)
            capture = endpoint.stop_capture()
            assert keys == ["4"]
            assert np.array_equal(capture.pcm, g711.ulaw_decode(payload))
            assert abs(capture.seconds - 0.6) < 0.001 and not capture.silent
            assert endpoint.remote == (LOOPBACK, phone.port)  # latched to the phone
            assert endpoint.stats.foreign_packets >= 1 and endpoint.stats.bad_packets == 1
            endpoint.play_tone("beep")
            assert rtp.parse(await phone.recv()).payload_type == 0  # sent where the phone is
            assert await intruder.nothing(0.1)
        finally:
            phone.close()
            intruder.close()
            await media.close()

    run(scenario())


def test_silence_is_reported_as_silent() -> None:
    quiet = (np.random.default_rng(1).normal(0, 30, 8000)).astype(np.int16)
    assert is_silent(quiet) and is_silent(np.zeros(0, np.int16))
    assert not is_silent(voice(1.0)) and not is_silent(tone_pcm("beep"))


def test_refuses_remote_addresses_and_bad_masters() -> None:
    async def scenario() -> None:
        media = await engine()
        endpoint = media.open_endpoint()
        try:
            with pytest.raises(RemoteAddressRefused):
                endpoint.set_remote("192.0.2.7", 4000)
            for bad in (
                master_wav(voice(0.1), rate=16000),
                master_wav(voice(0.1), channels=2),
                b"RIFF",
            ):
                with pytest.raises(PromptFormatError):
                    endpoint.play_master(bad)
        finally:
            await media.close()

    run(scenario())


def test_port_range_is_exhausted_and_released() -> None:
    async def scenario() -> None:
        media = MediaEngine(MediaConfig(port_min=PORTS[0], port_max=PORTS[0] + 5))
        await media.start()
        try:
            endpoints = [media.open_endpoint() for _ in range(3)]
            assert sorted(e.local_port % 2 for e in endpoints) == [0, 0, 0]
            with pytest.raises(NoFreePort):
                media.open_endpoint()
            endpoints[1].close()
            assert media.open_endpoint().local_port == endpoints[1].local_port
            assert media.endpoints == 3
        finally:
            await media.close()
        assert media.endpoints == 0

    run(scenario())


def test_one_tick_serves_many_calls_without_late_frames() -> None:
    async def scenario() -> None:
        media = await engine()
        sink = await UdpPeer.open()
        try:
            master = master_wav(voice(0.5))
            endpoints = [media.open_endpoint(f"c{i}") for i in range(40)]
            for endpoint in endpoints:
                endpoint.use(choice_to(sink.port))
                endpoint.play_master(master)
            await asyncio.gather(*(e.drained() for e in endpoints))
            tasks = [t.get_name() for t in asyncio.all_tasks()]
            assert tasks.count("media-tick") == 1
            assert media.stats.frames_sent == 40 * 25
            assert media.stats.frames_late_40ms == 0
        finally:
            sink.close()
            await media.close()

    run(scenario())
