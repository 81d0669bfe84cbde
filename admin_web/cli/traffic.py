"""`pbx traffic generate`: realistic calls through the call engine into the call log
(business hours, repeat callers, IVR choices, busy / no-answer, forwarding, voicemail).

Each chunk of calls is committed on its own, so a long run shows progress and an interrupted
one keeps what it wrote. The same seed gives the same calls.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime

import click

from admin_web.cli.base import emit_json, json_option, runtime
from admin_web.runtime import Runtime
from pbx.services.calls import traffic


@click.group("traffic")
def traffic_group() -> None:
    """Generated traffic (for demos, load and incident drills)."""


@traffic_group.command("generate")
@click.option("--tenants", "tenant_count", type=int, required=True, help="How many companies.")
@click.option("--calls", type=int, required=True, help="Calls in all (shared by size).")
@click.option(
    "--between",
    nargs=2,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    metavar="DATE DATE",
    help="First and last day (inclusive), e.g. 2026-06-01 2026-07-31.",
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--workers", type=click.IntRange(1, 32), default=1, show_default=True,
              help="Processes running the engine while this one writes.")  # fmt: skip
@click.option("--chunk", type=click.IntRange(100, 1_000_000), default=10_000, show_default=True)
@json_option
def generate(
    tenant_count: int, calls: int, between: tuple[datetime, datetime], seed: int, workers: int,
    chunk: int, as_json: bool,
) -> None:  # fmt: skip
    """Run CALLS calls through the engine for the first TENANTS companies."""
    first, last = between[0].date(), between[1].date()
    clock = time.perf_counter()
    with runtime() as rt:
        with rt.unit_of_work() as s:
            tenant_ids = traffic.busiest_tenants(s, tenant_count)
            plan = traffic.plan_traffic(s, None, tenant_ids, calls, (first, last), seed)
            utc = traffic.utc_suffix(s)
        rows = _write(rt, plan, traffic.chunks_of(plan, chunk), utc, workers, not as_json)
    seconds = time.perf_counter() - clock
    report = {
        "tenants": tenant_ids, "calls": plan.total, "call_log_rows": rows,
        "between": [first.isoformat(), last.isoformat()], "seconds": round(seconds, 2),
        "calls_per_second": round(plan.total / seconds) if seconds else None,
    }  # fmt: skip
    if as_json:
        emit_json(report)
        return
    click.echo(
        f"{plan.total:,} calls for {len(tenant_ids)} companies → {rows:,} call-log rows "
        f"in {seconds:.1f} s ({report['calls_per_second']:,} calls/s)"
    )


def _write(
    rt: Runtime,
    plan: traffic.TrafficPlan,
    chunks: list[traffic.Chunk],
    utc: str,
    workers: int,
    bar: bool,
) -> int:
    rows = 0
    with click.progressbar(
        length=max(plan.total, 1), label="calls", file=sys.stderr if bar else _Null()
    ) as progress:
        for done, chunk_rows in traffic.generated(plan, chunks, utc, workers):
            with rt.unit_of_work() as s:
                rows += traffic.insert_rows(s, chunk_rows)
            progress.update(done.count)
    return rows


class _Null:
    """A file that swallows the progress bar (with --json)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False
