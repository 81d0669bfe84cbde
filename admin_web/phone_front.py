"""The SIP/RTP front wired to the switchboard: settings → a `PhoneWorker` (the composition
root of `pbx phone serve`, `pbx demo` and the phone tests)."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import signal
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from admin_web.runtime import Runtime
from pbx.config import Settings, rtp_port_range
from pbx.media.tts import build_tts
from pbx.phone.edge import Edge
from pbx.phone.media import MediaConfig
from pbx.phone.switchboard import Switchboard
from pbx.phone.transport import TransportConfig
from pbx.phone.worker import PhoneWorker, Trunk
from pbx.services.people.phones import secret_box


def build_worker(runtime: Runtime, **overrides: Any) -> PhoneWorker:
    """A worker for `runtime`'s database and media, as the settings say (overrides for
    tests: sip_port=0 picks a free port)."""
    settings: Settings = replace(runtime.settings, **overrides) if overrides else runtime.settings
    tts = build_tts(settings.tts_engines)
    fallbacks = tuple(getattr(settings, "secret_key_fallbacks", ()) or ())
    board = Switchboard(
        unit_of_work=runtime.unit_of_work,
        blobs_of=runtime.blobs,
        speak=lambda text, language: tts.synthesise(text, language).wav,
        secret_box=secret_box(settings.require_secret_key(), fallbacks),
        realm=settings.sip_realm,
    )
    low, high = rtp_port_range(settings)
    return PhoneWorker(
        board,
        transport_config=TransportConfig(
            host=settings.sip_host, port=settings.sip_port, allow_remote=settings.sip_allow_remote
        ),
        media_config=MediaConfig(
            host=settings.sip_host, port_min=low, port_max=high,
            allow_remote=settings.sip_allow_remote,
        ),  # fmt: skip
        trunk=Trunk(settings.trunk_hosts, _address(settings.trunk_address)),
        edge=Edge(settings.sip_edge_hosts),
        nonce_secret=nonce_secret(settings.require_secret_key()),
    )


def nonce_secret(secret_key: str) -> bytes:
    """The key of the digest nonces, the same in every worker: behind the edge a phone's
    answer to one worker's challenge may reach another."""
    return hmac.new(secret_key.encode("utf-8"), b"vaxel sip digest nonces v1", "sha256").digest()


def _address(text: str) -> tuple[str, int] | None:
    if not text:
        return None
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"PBX_TRUNK_ADDRESS must be host:port, not {text!r}")
    return host, int(port)


async def serve_forever(
    worker: PhoneWorker, ready: Any = None, stats_path: Path | None = None
) -> None:
    """Run the worker until SIGINT or SIGTERM; then write its figures to `stats_path`
    (JSON: media tick, transport, flood guard; the SIP benchmark reads it)."""
    await worker.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready(worker)
    try:
        await stop.wait()
    finally:
        figures = worker_figures(worker)
        await worker.close()
        if stats_path is not None:
            stats_path.write_text(json.dumps(figures, indent=2))


def worker_figures(worker: PhoneWorker) -> dict[str, Any]:
    """What a worker counted: frames sent and how late, messages, drops, calls open."""
    return {
        "media": asdict(worker.media.stats),
        "transport": asdict(worker.transport.stats),
        "guard": {"blocked": worker.guard.blocked, "dropped": worker.guard.dropped},
        "calls_open": len(worker.calls),
        "endpoints_open": worker.media.endpoints,
    }
