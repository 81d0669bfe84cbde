"""Message-library benchmark (issue 6): text-to-speech that is normalised *and stored*.

    .venv/bin/python benchmarks/library_bench.py [--repeat N] [--messages N]
                                                 [--database sqlite|postgresql|both]

Prints:
- offline text-to-speech (espeak-ng) of a ~10-second Swedish prompt, normalised to the master
  and stored as a new message version (blob written and fsynced, version row, pointer move,
  audit entry, commit): median and p90 per message (target < 300 ms);
- bulk regeneration of N missing messages of one company (`library_bulk.regenerate_missing`:
  media scan of every slot, synthesis, normalisation, storing, one commit), total and per
  message, extrapolated to 1,000 when N is smaller (target < 2 minutes for 1,000).

SQLite runs in a temporary directory; PostgreSQL in a temporary database on
PBX_TEST_PG_URL's server (default postgresql+psycopg://127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pbx.media.tts import EspeakEngine  # noqa: E402
from pbx.services.common.actor import SYSTEM  # noqa: E402
from pbx.services.library import bulk_tts as library_bulk
from pbx.services.library import messages as library
from pbx.services.tenants import companies as tenants
from storage.blobs import FileBlobStore  # noqa: E402
from storage.db import make_engine, make_session_factory, session_scope  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import MediaVersion, MessageSlot  # noqa: E402

SWEDISH_PROMPT = (
    "Välkommen till Exempelföretaget. Vårt kontor har öppet vardagar mellan åtta och "
    "sjutton. Tryck ett för växeln, två för support och tre för ekonomi."
)
PARTS = [
    "Välkommen till {company}.",
    "Tryck ett för försäljning, två för support och tre för ekonomi.",
    "Alla våra handläggare är upptagna just nu, var god dröj.",
    "Vårt kontor har öppet vardagar mellan klockan åtta och sjutton.",
    "Du är nummer {n} i kön.",
    "Lämna ett meddelande efter tonen så ringer vi upp dig.",
]
PG_ADMIN = os.environ.get("PBX_TEST_PG_URL", "postgresql+psycopg://127.0.0.1:5432/test")


@contextmanager
def database(kind: str) -> Iterator[sessionmaker[Session]]:
    """A fresh migrated database of `kind`, dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{tmp}/bench.sqlite3")
            upgrade(engine)
            yield make_session_factory(engine)
            engine.dispose()
        return
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"pbx_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(PG_ADMIN.rsplit("/", 1)[0] + "/" + name)
    try:
        upgrade(engine)
        yield make_session_factory(engine)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prompt(i: int) -> str:
    return " ".join(PARTS[(i + k) % len(PARTS)] for k in range(3)).format(
        company=f"Företag {i}", n=i % 9 + 1
    )


def bench_stored_tts(factory: sessionmaker[Session], blobs: FileBlobStore, repeat: int) -> None:
    engine = EspeakEngine()
    with session_scope(factory) as s:
        tenant = tenants.create_tenant(s, SYSTEM, name="Bänk AB", org_number="556016-0680",
                                       slug="bank-tts")  # fmt: skip
        slot_id = library.create_message(s, SYSTEM, tenant, kind="welcome", name="Välkommen").id
    samples, spoken = [], 0
    for i in range(repeat + 1):
        started = time.perf_counter()
        with session_scope(factory) as s:
            slot = s.get(MessageSlot, slot_id)
            assert slot is not None
            version = library.save_tts(
                s, blobs, engine, SYSTEM, slot, SWEDISH_PROMPT + " " * i, "sv"
            )
            spoken = version.duration_ms
        if i:  # the first one warms up espeak-ng, ffmpeg and the connection
            samples.append((time.perf_counter() - started) * 1000)
    median = statistics.median(samples)
    p90 = sorted(samples)[int(0.9 * (len(samples) - 1))]
    verdict = "OK" if median < 300 else "OVER TARGET"
    print(f"  TTS of a {spoken / 1000:.1f} s Swedish prompt, normalised + stored + committed: "
          f"median {median:.0f} ms, p90 {p90:.0f} ms (target < 300 ms) {verdict}")  # fmt: skip


def lost_messages(factory: sessionmaker[Session], count: int) -> int:
    """A company whose `count` messages all point at audio that is gone."""
    with session_scope(factory) as s:
        tenant = tenants.create_tenant(s, SYSTEM, name="Förlust AB", org_number="556036-0793",
                                       slug="bank-bulk")  # fmt: skip
        for i in range(count):
            slot = MessageSlot(tenant_id=tenant.id, kind="ivr", name=f"Meddelande {i}",
                               script_text=prompt(i), language="sv")  # fmt: skip
            s.add(slot)
            s.flush()
            lost = MediaVersion(slot_id=slot.id, blob_sha256=uuid.uuid4().hex * 2, source="demo")
            s.add(lost)
            s.flush()
            slot.current_version_id = lost.id
        return tenant.id


def bench_bulk(factory: sessionmaker[Session], blobs: FileBlobStore, count: int) -> None:
    tenant_id = lost_messages(factory, count)
    engine = EspeakEngine()
    engine.synthesise("Hej.", "sv")
    started = time.perf_counter()
    with session_scope(factory) as s:
        result = library_bulk.regenerate_missing(s, blobs, engine, SYSTEM, tenant_id=tenant_id)
    elapsed = time.perf_counter() - started
    assert len(result.regenerated) == count and not result.failed, result.failed[:3]
    per = elapsed / count
    thousand = per * 1000
    verdict = "OK" if thousand < 120 else "OVER TARGET"
    print(
        f"  bulk regeneration of {count} missing messages: {elapsed:.1f} s ({per * 1000:.0f} ms"
        f" each) → 1,000 ≈ {thousand:.0f} s (target < 120 s) {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    for kind in kinds:
        print(f"{kind}:")
        with database(kind) as factory, tempfile.TemporaryDirectory() as blob_dir:
            blobs = FileBlobStore(blob_dir)
            bench_stored_tts(factory, blobs, args.repeat)
            bench_bulk(factory, blobs, args.messages)


if __name__ == "__main__":
    main()
