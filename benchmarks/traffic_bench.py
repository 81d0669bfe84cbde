"""Traffic benchmark: calls through the engine into a SQLite call log, against a raw
`sqlite3.executemany` of the same rows, in the same run.

1. A fresh data directory: migrations and the three demo companies (no call history).
2. The database file is copied: the copy is where the raw insert goes, so both start equal.
3. Generated traffic: `--calls` calls (default 1,000,000) for the three companies over
   June–July 2026, each one run through the engine (`pbx.services.calls.traffic`, exactly what
   `pbx traffic generate` does), committed every `--chunk` calls. Timed by the wall clock
   and by CPU time (this process and its engine workers; the machine may be shared).
4. Raw: the same rows, read back from the first database chunk by chunk, inserted into the
   copy with `sqlite3` `executemany` (same pragmas: WAL, foreign keys, synchronous=NORMAL),
   committed every chunk; only the inserts are timed.

    .venv/bin/python benchmarks/traffic_bench.py [--calls N] [--chunk C] [--workers W]

Targets (issue 3): generated traffic at least 25 % of the raw insert's rate (rows/s), and
1,000,000 calls in under 5 minutes.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from admin_web.runtime import Runtime  # noqa: E402
from fixtures.demo import load_demo  # noqa: E402
from pbx.config import load_settings  # noqa: E402
from pbx.services.calls import traffic  # noqa: E402

BETWEEN = (date(2026, 6, 1), date(2026, 7, 31))
COLUMNS = ", ".join(traffic.COLUMNS)


def prepare(data_dir: Path) -> Runtime:
    settings = load_settings(
        overrides={"data_dir": str(data_dir), "database_url": f"sqlite:///{data_dir}/pbx.sqlite3"},
        require_secret=False,
    )
    runtime = Runtime.build(settings)
    runtime.migrate()
    load_demo(runtime, calls_per_day=0)
    return runtime


def generate(runtime: Runtime, calls: int, chunk: int, workers: int) -> dict[str, float]:
    with runtime.unit_of_work() as s:
        tenant_ids = traffic.busiest_tenants(s, 3)
        plan = traffic.plan_traffic(s, None, tenant_ids, calls, BETWEEN, seed=1)
        utc = traffic.utc_suffix(s)
    rows = 0
    wall, cpu = time.perf_counter(), _cpu()
    for _, chunk_rows in traffic.generated(plan, traffic.chunks_of(plan, chunk), utc, workers):
        with runtime.unit_of_work() as s:
            rows += traffic.insert_rows(s, chunk_rows)
    return {
        "calls": plan.total,
        "rows": rows,
        "wall": time.perf_counter() - wall,
        "cpu": _cpu() - cpu,
    }


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the engine workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def raw_insert(source: Path, target: Path, chunk_rows: int) -> dict[str, float]:
    read = sqlite3.connect(source)
    write = sqlite3.connect(target, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
        write.execute(f"PRAGMA {pragma}")
    sql = f"INSERT INTO call_log ({COLUMNS}) VALUES ({', '.join('?' * len(traffic.COLUMNS))})"
    cursor = read.execute(f"SELECT {COLUMNS} FROM call_log ORDER BY id")
    rows, wall, cpu = 0, 0.0, 0.0
    while batch := cursor.fetchmany(chunk_rows):
        w, c = time.perf_counter(), time.process_time()
        write.execute("BEGIN")
        write.executemany(sql, batch)
        write.execute("COMMIT")
        wall += time.perf_counter() - w
        cpu += time.process_time() - c
        rows += len(batch)
    read.close()
    write.close()
    return {"rows": rows, "wall": wall, "cpu": cpu}


def report(ours: dict[str, float], raw: dict[str, float], args: Any) -> None:
    legs = ours["rows"] / ours["calls"]
    print(
        f"traffic: {ours['calls']:,.0f} calls → {ours['rows']:,.0f} call-log rows "
        f"({legs:.2f} legs a call), chunks of {args.chunk:,}, workers {args.workers}"
    )
    for clock in ("wall", "cpu"):
        mine = ours["rows"] / ours[clock]
        theirs = raw["rows"] / raw[clock]
        print(
            f"  {clock:4}: engine + call log {ours['calls'] / ours[clock]:,.0f} calls/s "
            f"= {mine:,.0f} rows/s in {ours[clock]:.1f} s; raw executemany {theirs:,.0f} "
            f"rows/s ({raw[clock]:.1f} s) → {100 * mine / theirs:.0f} % of raw (target ≥ 25 %)"
        )
    per_million = ours["wall"] / ours["calls"] * 1_000_000
    print(f"  1,000,000 calls take {per_million:.0f} s by the wall clock (target < 300 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="traffic-bench-"))
    try:
        runtime = prepare(data_dir)
        runtime.close()
        copy = data_dir / "raw.sqlite3"
        shutil.copyfile(data_dir / "pbx.sqlite3", copy)
        runtime = Runtime.build(runtime.settings)
        ours = generate(runtime, args.calls, args.chunk, args.workers)
        runtime.close()
        rows_per_chunk = max(1, round(ours["rows"] / ours["calls"] * args.chunk))
        raw = raw_insert(data_dir / "pbx.sqlite3", copy, rows_per_chunk)
        assert raw["rows"] == ours["rows"]
        report(ours, raw, args)
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
