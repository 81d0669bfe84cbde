"""Incident benchmark: the affected-caller query and the fraud scan at operator scale.

1. Affected callers: `--rows` call-log rows (default 10,000,000) for `--companies` (100) over
   60 days (1 June – 30 July 2026); the query for all the companies and the six days 2–7 July
   (`pbx.incident.callers.affected_callers`, the code the CLI and the console run). Target
   < 5 s. Cold (first run after loading) and warm (median of 3) times, and the query plan.
2. Fraud scan: one day of traffic for `--scan-companies` (10,000) companies, `--legs` (200)
   legs each with ~1 in 8 forwarded (some abroad, a few companies pumping fraud traffic),
   plus logins and forwarding changes in the audit log; `pbx.incident.scan.scan` over that
   day, containment included. Target < 60 s.

Rows are made the fast way into a fresh database migrated by Alembic, with the call-log
indexes dropped during the load and built afterwards: the 10 million history rows by the
database itself (a recursive CTE on SQLite, generate_series on PostgreSQL), the scan's day of
traffic from Python (executemany in one transaction on SQLite, COPY on PostgreSQL).

    .venv/bin/python benchmarks/incident_bench.py [--backend sqlite|postgresql|both]
        [--rows N] [--companies N] [--scan-companies N] [--legs N] [--pg-url URL]
        [--only callers|scan] [--keep]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from sqlalchemy import Index, create_engine, text
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pbx.incident import callers  # noqa: E402
from pbx.incident.scan import scan  # noqa: E402
from pbx.policies.fraud_rules import ZONE  # noqa: E402
from pbx.services.common.actor import cli_actor  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Base  # noqa: E402

COLUMNS = (
    "call_id",
    "leg",
    "tenant_id",
    "user_id",
    "caller",
    "callee",
    "direction",
    "started_at",
    "answered_at",
    "ended_at",
    "disposition",
    "forwarded_to",
)
FIRST_DAY, DAYS = date(2026, 6, 1), 60
WINDOW = (
    datetime.combine(date(2026, 7, 2), dtime(0), ZONE),
    datetime.combine(date(2026, 7, 8), dtime(0), ZONE),
)
SCAN_DAY = date(2026, 7, 3)
ABROAD = ("+358401234567", "+4791234567", "+4520123456", "+18765550123", "+37125123456")


def stamp(moment: datetime, sqlite: bool) -> Any:
    """What the UtcDateTime column stores: naive ISO text on SQLite, aware on PostgreSQL."""
    if sqlite:
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return moment


# --- databases -------------------------------------------------------------------------------


def fresh_database(backend: str, pg_url: str, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{Path(tempfile.mkdtemp(prefix='incident-bench-')) / 'bench.sqlite3'}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return pg_url.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str, pg_url: str) -> None:
    """Remove a benchmark database (the 10 M-row one takes several GB)."""
    if url.startswith("sqlite"):
        shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)
        return
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def call_log_indexes() -> list[Index]:
    return sorted(Base.metadata.tables["call_log"].indexes, key=lambda i: str(i.name))


def load(
    engine: Engine, table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]
) -> int:
    """Bulk load: COPY on PostgreSQL, one executemany transaction on SQLite."""
    count = 0
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            marks = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            batch: list[tuple[Any, ...]] = []
            cur.execute("BEGIN")
            for row in rows:
                batch.append(row)
                if len(batch) == 50_000:
                    cur.executemany(sql, batch)
                    count += len(batch)
                    batch.clear()
            cur.executemany(sql, batch)
            count += len(batch)
        raw.commit()
    finally:
        raw.close()
    return count


def without_call_log_indexes(engine: Engine, work: Callable[[], int]) -> tuple[int, float]:
    """Drop the call-log indexes, run `work`, build them again; returns (rows, index seconds)."""
    indexes = call_log_indexes()
    with engine.begin() as conn:
        for index in indexes:
            index.drop(conn)
    rows = work()
    started = time.perf_counter()
    with engine.begin() as conn:
        for index in indexes:
            index.create(conn)
    # What autovacuum does after a bulk load on PostgreSQL: statistics, and the visibility
    # map that lets the affected-caller query read the covering index alone.
    command = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(command))
    return rows, time.perf_counter() - started


def tenants_and_numbers(engine: Engine, count: int, sqlite: bool, users: bool) -> None:
    now = stamp(datetime(2026, 6, 1, tzinfo=UTC), sqlite)
    tenant_rows = (
        (i, f"bench-{i}", f"Bänkbolaget {i} AB", f"55{i:08d}", "SE", "[]", 90, now)
        for i in range(1, count + 1)
    )
    load(
        engine,
        "tenants",
        (
            "id",
            "slug",
            "name",
            "org_number",
            "home_region",
            "allowed_countries",
            "calllog_retention_days",
            "created_at",
        ),
        tenant_rows,
    )
    numbers = ((i, i, company_number(i), "Växel", "hangup") for i in range(1, count + 1))
    load(engine, "phone_numbers", ("id", "tenant_id", "e164", "label", "target_kind"), numbers)
    if users:
        people = (
            (
                i,
                i,
                f"Person {i}",
                f"p{i}@bench.example",
                "101",
                f"+4673{i:07d}",
                "user",
                "active",
                False,
                f"{i:064x}",
                0,
                now,
            )
            for i in range(1, count + 1)
        )
        load(
            engine,
            "users",
            (
                "id",
                "tenant_id",
                "name",
                "email",
                "extension",
                "mobile",
                "role",
                "status",
                "must_change_password",
                "session_token",
                "failed_logins",
                "created_at",
            ),
            people,
        )
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("tenants", "phone_numbers", "users"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"coalesce((SELECT max(id) FROM {table}), 1))"
                    )
                )


def company_number(i: int) -> str:
    return f"+46852{i:06d}"


# --- 1. affected callers ----------------------------------------------------------------------


SQLITE_HISTORY = """
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < :n - 1)
INSERT INTO call_log (call_id, leg, tenant_id, caller, callee, direction, started_at,
                      answered_at, ended_at, disposition)
SELECT printf('%x', i), 1, 1 + i % :c,
  CASE WHEN i % 20 = 0 THEN '101'
       ELSE printf('+4670%07d', (abs(random()) % 775) * (abs(random()) % 775)) END,
  CASE WHEN i % 20 = 0 THEN printf('+4670%07d', abs(random()) % 10000000)
       WHEN i % 20 = 1 THEN '+358401234567' ELSE printf('+46852%06d', 1 + i % :c) END,
  CASE i % 20 WHEN 0 THEN 'outbound' WHEN 1 THEN 'forwarded' ELSE 'inbound' END,
  datetime('2026-06-01 06:00:00', printf('+%d seconds', i * :span / :n)) || '.000000',
  datetime('2026-06-01 06:00:00', printf('+%d seconds', i * :span / :n)) || '.000000',
  datetime('2026-06-01 06:00:00', printf('+%d seconds', i * :span / :n + 90)) || '.000000',
  'answered'
FROM seq
"""
PG_HISTORY = """
INSERT INTO call_log (call_id, leg, tenant_id, caller, callee, direction, started_at,
                      answered_at, ended_at, disposition)
SELECT to_hex(i), 1, 1 + i % :c,
  CASE WHEN i % 20 = 0 THEN '101'
       ELSE '+4670' || lpad(((random() * 774)::int * (random() * 774)::int)::text, 7, '0') END,
  CASE WHEN i % 20 = 0 THEN '+4670' || lpad((random() * 9999999)::int::text, 7, '0')
       WHEN i % 20 = 1 THEN '+358401234567' ELSE '+46852' || lpad((1 + i % :c)::text, 6, '0') END,
  CASE i % 20 WHEN 0 THEN 'outbound' WHEN 1 THEN 'forwarded' ELSE 'inbound' END,
  t, t, t + interval '90 seconds', 'answered'
FROM generate_series(0, :n - 1) AS i,
     LATERAL (SELECT timestamptz '2026-06-01 06:00:00+00'
                     + make_interval(secs => (i::bigint * :span / :n)::double precision) AS t) AS x
"""


def history_in_sql(engine: Engine, rows: int, companies: int) -> int:
    """Calls spread evenly over 60 days and the companies, made by the database itself;
    callers skewed to repeat (the product of two uniform numbers), 1 in 20 outbound and
    1 in 20 forwarded abroad."""
    sql = SQLITE_HISTORY if engine.dialect.name == "sqlite" else PG_HISTORY
    with engine.begin() as conn:
        conn.execute(text(sql), {"n": rows, "c": companies, "span": DAYS * 86_400})
    return rows


def bench_callers(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    url = fresh_database(backend, args.pg_url, "pbx_bench_callers")
    engine = make_engine(url)
    upgrade(engine)
    sqlite = backend == "sqlite"
    started = time.perf_counter()
    tenants_and_numbers(engine, args.companies, sqlite, users=False)
    loaded, index_s = without_call_log_indexes(
        engine, lambda: history_in_sql(engine, args.rows, args.companies)
    )
    load_s = time.perf_counter() - started
    factory = make_session_factory(engine)
    ids = list(range(1, args.companies + 1))
    times, found = [], 0
    for _ in range(4):
        with factory() as session:
            t0 = time.perf_counter()
            found = len(callers.affected_callers(session, ids, *WINDOW))
            times.append(time.perf_counter() - t0)
    plan = query_plan(engine, ids)
    engine.dispose()
    if not args.keep:
        drop_database(url, args.pg_url)
    return {
        "backend": backend,
        "rows": loaded,
        "load_s": load_s,
        "index_s": index_s,
        "cold_s": times[0],
        "warm_s": statistics.median(times[1:]),
        "callers": found,
        "plan": plan,
    }


def query_plan(engine: Engine, ids: list[int]) -> str:
    since, until = (stamp(m, engine.dialect.name == "sqlite") for m in WINDOW)
    where = (
        f"tenant_id IN ({', '.join(map(str, ids))}) AND started_at >= :s "
        f"AND started_at < :u GROUP BY caller ORDER BY caller"
    )
    sql = f"SELECT caller, count(*), min(started_at), max(started_at) FROM call_log WHERE {where}"
    prefix = (
        "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    )
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET work_mem = '64MB'"))  # as the service sets for its query
        rows = conn.execute(text(prefix + sql), {"s": since, "u": until}).all()
    return "\n".join(" | ".join(str(c) for c in r) if len(r) > 1 else str(r[0]) for r in rows)


# --- 2. the fraud scan ------------------------------------------------------------------------


def day_rows(companies: int, legs: int, sqlite: bool) -> Iterator[tuple[Any, ...]]:
    """One day: inbound legs, 1 in 8 forwarded to the user's mobile, 1 in 40 abroad; 1 in
    1,000 companies pumping 40 legs abroad in one hour."""
    rng = random.Random(9)
    start = datetime.combine(SCAN_DAY, dtime(6), UTC)
    n = 0
    for tenant in range(1, companies + 1):
        for j in range(legs):
            n += 1
            began = start + timedelta(seconds=rng.randrange(11 * 3600))
            caller = f"+4670{rng.randrange(10**7):07d}"
            dest, direction = company_number(tenant), "inbound"
            if j % 8 == 0:
                direction = "forwarded"
                dest = ABROAD[j % 5] if j % 40 == 0 else f"+4673{tenant:07d}"
            yield _leg(n, tenant, caller, dest, direction, began, sqlite)
        if tenant % 1000 == 0:
            for k in range(40):
                n += 1
                began = start + timedelta(hours=3, seconds=60 * k)
                yield _leg(
                    n,
                    tenant,
                    f"+4676{k:07d}",
                    "+881612345678" if k < 5 else ABROAD[0],
                    "forwarded",
                    began,
                    sqlite,
                )


def _leg(
    n: int, tenant: int, caller: str, callee: str, direction: str, began: datetime, sqlite: bool
) -> tuple[Any, ...]:
    user = tenant if direction == "forwarded" else None
    return (
        f"d{n:x}",
        1,
        tenant,
        user,
        caller,
        callee,
        direction,
        stamp(began, sqlite),
        stamp(began, sqlite),
        stamp(began + timedelta(seconds=120), sqlite),
        "answered",
        None,
    )


def audit_rows(companies: int, sqlite: bool) -> Iterator[tuple[Any, ...]]:
    """A morning login per company; failed logins before a success for 1 in 500."""
    start = datetime.combine(SCAN_DAY, dtime(7), UTC)
    n = 0
    for tenant in range(1, companies + 1):
        failures = 12 if tenant % 500 == 0 else 0
        for k in range(failures + 1):
            n += 1
            action = "login.failed" if k < failures else "login.success"
            at = stamp(start + timedelta(seconds=tenant + k), sqlite)
            yield (
                n,
                at,
                tenant,
                "",
                tenant,
                "192.0.2.1",
                action,
                "user",
                str(tenant),
                f"{n:064x}",
                f"{n:064x}",
            )


def bench_scan(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    url = fresh_database(backend, args.pg_url, "pbx_bench_scan")
    engine = make_engine(url)
    upgrade(engine)
    sqlite = backend == "sqlite"
    tenants_and_numbers(engine, args.scan_companies, sqlite, users=True)
    rows, _ = without_call_log_indexes(
        engine,
        lambda: load(engine, "call_log", COLUMNS, day_rows(args.scan_companies, args.legs, sqlite)),
    )
    load(
        engine,
        "audit_events",
        (
            "id",
            "occurred_at",
            "actor_user_id",
            "actor_label",
            "tenant_id",
            "ip",
            "action",
            "target_type",
            "target_id",
            "prev_hash",
            "entry_hash",
        ),
        audit_rows(args.scan_companies, sqlite),
    )
    if not sqlite:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('audit_events', 'id'), "
                    "(SELECT max(id) FROM audit_events))"
                )
            )
            conn.execute(text("ANALYZE"))
    factory = make_session_factory(engine)
    since = datetime.combine(SCAN_DAY, dtime(0), ZONE)
    with factory() as session, session.begin():
        t0 = time.perf_counter()
        result = scan(session, cli_actor("bench"), since, since + timedelta(days=1))
        seconds = time.perf_counter() - t0
    engine.dispose()
    if not args.keep:
        drop_database(url, args.pg_url)
    return {
        "backend": backend,
        "rows": rows,
        "companies": args.scan_companies,
        "legs": result.legs,
        "alerts": len(result.new_alerts),
        "contained": len(result.contained),
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--companies", type=int, default=100)
    parser.add_argument("--scan-companies", type=int, default=10_000)
    parser.add_argument("--legs", type=int, default=200)
    parser.add_argument("--pg-url", default="postgresql+psycopg://127.0.0.1:5432/test")
    parser.add_argument("--only", choices=("callers", "scan"))
    parser.add_argument("--keep", action="store_true", help="Keep the databases afterwards.")
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        if args.only != "scan":
            r = bench_callers(backend, args)
            print(
                f"[{backend}] affected callers: {r['rows']:,} rows loaded in {r['load_s']:.0f} s "
                f"(indexes {r['index_s']:.0f} s); query {r['callers']:,} callers: "
                f"cold {r['cold_s']:.2f} s, warm {r['warm_s']:.2f} s (target < 5 s)\n"
                f"plan:\n{r['plan']}",
                flush=True,
            )
        if args.only != "callers":
            r = bench_scan(backend, args)
            print(
                f"[{backend}] fraud scan: {r['companies']:,} companies, {r['rows']:,} legs "
                f"({r['legs']:,} forwarded): {r['alerts']} alerts, {r['contained']} contained "
                f"in {r['seconds']:.1f} s (target < 60 s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
