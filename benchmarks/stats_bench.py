"""Call-statistics benchmark (issue 17 item 6): `pbx.services.calllog.stats.call_stats` on a
call log of a million rows, on SQLite and PostgreSQL.

1. A fresh database migrated to head (a temporary SQLite file; PostgreSQL through `--pg URL`,
   a scratch database created and dropped by the run).
2. `--rows` call-log rows (default 1,000,000) for `--tenants` companies over 2025: whole calls
   (leg 1, inbound to one of each company's 4 numbers) with outcomes, forwarded ones, and queue
   legs for a quarter of them; inserted in bulk (this measures the query, not the engine:
   `traffic_bench.py` measures writing calls through the engine).
3. For one company: its statistics for one month and for the whole year, each `--repeat`
   times (best and median wall time), and the query plans, which must use
   the call log's (tenant, start time) index (an index range scan, never a scan of the whole log).

    .venv/bin/python benchmarks/stats_bench.py [--rows N] [--tenants T] [--pg URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from pbx.services.calllog import stats  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import CallLogEntry, Tenant  # noqa: E402

YEAR = datetime(2025, 1, 1, tzinfo=UTC)
OUTCOMES = ("answered",) * 6 + ("no_answer", "busy", "abandoned", "voicemail")


def rows(tenants: int, count: int, seed: int = 7) -> Any:
    rng = random.Random(seed)
    for i in range(count):
        tenant = 1 + i % tenants
        start = YEAR + timedelta(seconds=rng.randrange(365 * 86400))
        disposition = rng.choice(OUTCOMES)
        answered = start + timedelta(seconds=rng.randrange(2, 40))
        queued = i % 4 == 0
        yield {
            "call_id": uuid.UUID(int=rng.getrandbits(128)).hex, "leg": 1 if not queued else 2,
            "tenant_id": tenant, "user_id": None, "caller": f"+4670{rng.randrange(10**7):07d}",
            "callee": f"+46852{tenant:03d}{i % 4:03d}", "direction": "inbound",
            "started_at": start, "ended_at": answered + timedelta(seconds=60),
            "answered_at": answered if disposition == "answered" else None,
            "disposition": disposition, "forwarded_to": "+46701234567" if i % 23 == 0 else None,
            "refused_reason": None, "queue_id": tenant if queued else None,
        }  # fmt: skip


def load(url: str, tenants: int, count: int, chunk: int = 20_000) -> float:
    engine = make_engine(url)
    upgrade(engine)
    began = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(Tenant), [
            {"id": t, "name": f"Bolag {t}", "org_number": f"55{t:08d}", "slug": f"bolag-{t}"}
            for t in range(1, tenants + 1)
        ])  # fmt: skip
    batch: list[dict[str, Any]] = []
    for row in rows(tenants, count):
        batch.append(row)
        if len(batch) == chunk:
            with engine.begin() as conn:
                conn.execute(insert(CallLogEntry), batch)
            batch = []
    if batch:
        with engine.begin() as conn:
            conn.execute(insert(CallLogEntry), batch)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - began


def plans(url: str, tenant: int, first: date, last: date) -> list[str]:
    """The query plans of the statistics' statements, as the database states them."""
    engine = make_engine(url)
    start, end = stats.period(first, last)
    where = "tenant_id = :t AND started_at >= :a AND started_at < :b"
    statements = (
        f"SELECT callee, disposition, count(*) FROM call_log WHERE {where} AND leg = 1 "
        "AND direction = 'inbound' GROUP BY callee, disposition",
        f"SELECT queue_id, min(started_at) FROM call_log WHERE {where} "
        "AND queue_id IS NOT NULL GROUP BY call_id, queue_id",
    )
    sqlite = engine.dialect.name == "sqlite"
    params: dict[str, Any] = {"t": tenant, "a": start, "b": end}
    if sqlite:
        params = {"t": tenant, "a": _naive(start), "b": _naive(end)}
    found = []
    with engine.connect() as conn:
        for sql in statements:
            explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            result = conn.execute(text(explain + sql), params)
            found.append(" | ".join(str(row[-1]) for row in result))
    engine.dispose()
    return found


def _naive(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


def timed(url: str, tenant: int, first: date, last: date, repeat: int) -> tuple[float, float, int]:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    times, calls = [], 0
    for _ in range(repeat):
        with sessions() as session, session.begin():
            began = time.perf_counter()
            found = stats.call_stats(session, tenant, first, last)
            times.append(time.perf_counter() - began)
            calls = found.total.total + sum(q.calls for q in found.queues)
    engine.dispose()
    return min(times), statistics.median(times), calls


def run(url: str, label: str, args: argparse.Namespace) -> None:
    seconds = load(url, args.tenants, args.rows)
    print(f"\n{label}: {args.rows:,} rows for {args.tenants} companies loaded in {seconds:.1f} s")
    for name, first, last in (
        ("one month", date(2025, 3, 1), date(2025, 3, 31)),
        ("whole year", date(2025, 1, 1), date(2025, 12, 31)),
    ):
        best, median, calls = timed(url, 1, first, last, args.repeat)
        print(f"  company 1, {name}: {calls:,} calls counted; best {best * 1000:.1f} ms, "
              f"median {median * 1000:.1f} ms")  # fmt: skip
    for plan in plans(url, 1, date(2025, 3, 1), date(2025, 3, 31)):
        print(f"  plan: {plan}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg", help="a PostgreSQL server URL (a scratch database is made)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/stats.sqlite3", "SQLite", args)
    if args.pg:
        name = f"stats_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run(make_url(args.pg).set(database=name).render_as_string(False), "PostgreSQL", args)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
