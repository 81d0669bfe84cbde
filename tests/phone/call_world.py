"""A switchboard that real peers can call: a migrated SQLite database with one demo company
(Bergström Bygg), SIP credentials issued, and a `PhoneWorker` built by the composition root
(`admin_web.phone_front.build_worker`), all on 127.0.0.1.

The demo's spoken prompts are replaced by short, distinct speech-like masters made with
numpy, so a call is quick and what a peer heard can be correlated with the master it
should have been.
"""

from __future__ import annotations

import io
import socket
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_web.phone_front import build_worker
from admin_web.runtime import Runtime
from pbx.config import Settings
from pbx.phone.worker import PhoneWorker
from pbx.security.secretbox import SecretBox
from pbx.services.common.actor import SYSTEM
from pbx.services.library import slots
from pbx.services.people import phones
from pbx.services.people import voicemail as vm
from storage.models import IvrMenu, MessageSlot, PhoneNumber, Tenant
from tests.integration.switchboard_world import MAIN, demo_company, user_by_ext
from tests.library_media import speech_like

LOOPBACK = "127.0.0.1"
# Below the ephemeral ports (32768+): a SIPp or other socket bound to port 0 never lands
# in it, so what the capture sees from these ports is the worker's (test_media uses
# 31000-31999, the edge tests 30000-30999).
RTP_PORTS = (29000, 29999)
MENU_TIMEOUT = 2  # seconds (the shortest a menu may have)
# name → (seconds, seed): what the company's prompts become for the calls
PROMPTS = {"welcome": (1.0, 11), "main": (2.0, 12), "support": (1.5, 13), "greeting": (1.2, 14)}


def pcm_of(seconds: float, seed: int) -> np.ndarray:
    """Speech-like 8 kHz samples that no other stretch resembles: noise coloured like a
    voice (low-passed) under the syllable envelope of `speech_like`. A periodic voice would
    correlate with any other voiced stretch, so what was heard could not be told apart."""
    rng = np.random.default_rng(seed)
    noise = np.convolve(rng.standard_normal(int(seconds * 8000)), np.hanning(6), "same")
    envelope = np.abs(speech_like(seconds, rate=8000, seed=seed))
    envelope = np.convolve(envelope, np.ones(80) / 80, "same")
    shaped = noise * envelope / max(float(envelope.max()), 1e-9)
    return (shaped / max(float(np.abs(shaped).max()), 1e-9) * 20000).astype(np.int16)


def wav_of(pcm: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(pcm.astype("<i2").tobytes())
    return buffer.getvalue()


def free_port() -> int:
    """A port free for UDP and TCP on 127.0.0.1 right now (for peers that need a fixed one)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((LOOPBACK, 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((LOOPBACK, port))
                except OSError:  # taken for TCP by someone else: try another
                    continue
                return port
    raise OSError("no free port on 127.0.0.1")


@dataclass
class PhoneWorld:
    runtime: Runtime
    tenant_id: int
    trunk_port: int  # the trunk's SIP port: only 127.0.0.1:<this> is the trunk
    prompts: dict[str, np.ndarray] = field(default_factory=dict)
    credentials: dict[str, phones.PhoneCredentials] = field(default_factory=dict)
    slot_ids: dict[str, int] = field(default_factory=dict)

    def worker(self) -> PhoneWorker:
        return build_worker(
            self.runtime, sip_port=0, rtp_ports=f"{RTP_PORTS[0]}-{RTP_PORTS[1]}",
            trunk_hosts=(f"{LOOPBACK}:{self.trunk_port}",),
        )  # fmt: skip

    def session(self) -> Session:
        return self.runtime.sessions()


def build_world(db_url: str, data_dir: Path) -> PhoneWorld:
    settings = Settings(
        mode="test", data_dir=data_dir, database_url=db_url, secret_key="k" * 40,
        password_hash_profile="test-only-fast", tts_engines=("espeak",), sip_port=0,
    )  # fmt: skip
    runtime = Runtime.build(settings)
    world = PhoneWorld(runtime, 0, free_port())
    with runtime.unit_of_work() as session:
        blobs = runtime.blobs(session)
        tenant = demo_company(session, blobs)
        world.tenant_id = tenant.id
        for name, slot in _prompt_slots(session, tenant.id).items():
            pcm = pcm_of(*PROMPTS[name])
            world.prompts[name], world.slot_ids[name] = pcm, slot.id
            slots.add_version(
                session, blobs, SYSTEM, slot, wav_of(pcm), source="demo",
                duration_ms=len(pcm) // 8,
            )  # fmt: skip
        for menu in session.scalars(select(IvrMenu).where(IvrMenu.tenant_id == tenant.id)):
            menu.timeout_seconds = MENU_TIMEOUT
        for ext in ("101", "102"):
            user = user_by_ext(session, tenant, ext)
            world.credentials[ext] = phones.issue_credentials(session, _box(settings), SYSTEM, user)
    return world


def _box(settings: Settings) -> SecretBox:
    return phones.secret_box(settings.require_secret_key())


def _prompt_slots(session: Session, tenant_id: int) -> dict[str, MessageSlot]:
    """The slots a call to the main number plays: welcome, the two menus, Anna's greeting."""
    number = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == MAIN))
    found_menus = session.scalars(select(IvrMenu).where(IvrMenu.tenant_id == tenant_id))
    menus = {m.name: m for m in found_menus}
    assert number is not None and number.welcome_slot_id is not None
    found = {
        "welcome": number.welcome_slot_id,
        "main": menus["Huvudmeny"].prompt_slot_id,
        "support": menus["Kundtjänst"].prompt_slot_id,
    }
    made = {name: session.get(MessageSlot, slot_id) for name, slot_id in found.items()}
    tenant = session.get(Tenant, tenant_id)
    assert tenant is not None
    anna = user_by_ext(session, tenant, "101")
    made["greeting"] = vm.greeting_slot(session, SYSTEM, anna)
    return {name: slot for name, slot in made.items() if slot is not None}
