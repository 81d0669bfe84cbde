"""Traffic through the call engine into the call log (`pbx traffic generate`, the demo's
history, the traffic benchmark).

Every call is a real run of the engine (`simulate`) on the company's snapshot, with a script
from `traffic_model` (business hours, repeat callers, IVR choices, busy / no-answer /
unreachable phones, forwarding, voicemail). Its legs become `call_log` rows exactly as
`pbx call` writes them (`call_rows`), inserted in bulk with the driver's `executemany`
(timestamps formatted once, as SQLAlchemy stores them). Voicemail messages are not stored:
generated callers say nothing worth keeping, and the call log records the voicemail legs.

The caller owns the transactions: `write_chunk` inserts the next calls in the session it is
given, so a command can commit every chunk (and show progress) while a test uses one.
"""

from __future__ import annotations

import gc
import multiprocessing
import random
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from multiprocessing.pool import AsyncResult
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.engine import DialplanSnapshot, simulate
from pbx.errors import ValidationError
from pbx.services.calllog import rows as call_rows
from pbx.services.calls.dialplan import build_snapshot
from pbx.services.calls.traffic_model import CompanyTraffic, Rates, TimeSlots, split
from storage.blobs import BlobStore
from storage.models import PhoneNumber, Tenant, User

COLUMNS = (
    "call_id", "leg", "tenant_id", "user_id", "caller", "callee", "direction",
    "started_at", "answered_at", "ended_at", "disposition", "forwarded_to", "refused_reason",
    "queue_id",
)  # fmt: skip
EPOCH = datetime(1970, 1, 1)
Row = tuple[Any, ...]


@dataclass(frozen=True)
class Company:
    snapshot: DialplanSnapshot
    calls: int
    user_ids: dict[str, int]  # extension → users.id


@dataclass
class TrafficPlan:
    companies: list[Company]
    slots: TimeSlots
    seed: int
    rates: Rates = field(default_factory=Rates)
    models: dict[int, CompanyTraffic] = field(default_factory=dict, repr=False)

    @property
    def total(self) -> int:
        return sum(company.calls for company in self.companies)


def plan_traffic(
    session: Session,
    blobs: BlobStore | None,
    tenant_ids: Sequence[int],
    calls: int,
    between: tuple[date, date],
    seed: int = 1,
) -> TrafficPlan:
    """`calls` calls over the companies (by size) between two dates (inclusive)."""
    first, last = between
    if last < first:
        raise ValidationError("between", "the first date must not be after the last")
    if calls < 0 or not tenant_ids:
        raise ValidationError("calls", "give a number of calls and at least one company")
    snaps = [build_snapshot(session, blobs, tenant_id) for tenant_id in tenant_ids]
    shares = split(calls, [max(1, len(snap.users)) for snap in snaps])
    companies = [
        Company(snap, share, {u.ext: int(u.user_id) for u in snap.users if u.user_id.isdigit()})
        for snap, share in zip(snaps, shares, strict=True)
    ]
    return TrafficPlan(companies, TimeSlots.between(first, last), seed)


def busiest_tenants(session: Session, count: int) -> list[int]:
    """The first `count` companies that have numbers (by id), or a clear error."""
    stmt = (
        select(Tenant.id)
        .where(Tenant.id.in_(select(PhoneNumber.tenant_id)))
        .where(Tenant.id.in_(select(User.tenant_id).where(User.extension.is_not(None))))
        .order_by(Tenant.id)
    )
    found = list(session.scalars(stmt.limit(count)))
    if count < 1 or len(found) < count:
        raise ValidationError(
            "tenants", f"asked for {count} companies with numbers; there are {len(found)}"
        )
    return found


@dataclass(frozen=True)
class Chunk:
    """Part `part` of `parts` of the plan's time range: `counts[i]` calls of company i.
    Parts follow each other in time, so rows arrive in time order (like real traffic), and
    the call log's time-ordered indexes grow at their end."""

    part: int
    parts: int
    counts: tuple[int, ...]

    @property
    def count(self) -> int:
        return sum(self.counts)


def chunks_of(plan: TrafficPlan, size: int) -> list[Chunk]:
    """About `size` calls a chunk, every company in every chunk."""
    parts = max(1, -(-plan.total // max(1, size)))
    shares = [split(company.calls, [1] * parts) for company in plan.companies]
    return [Chunk(part, parts, tuple(s[part] for s in shares)) for part in range(parts)]


def chunk_rows(plan: TrafficPlan, chunk: Chunk, utc: str) -> list[Row]:
    """Run one chunk of calls through the engine; their call-log rows. Deterministic: a
    chunk's calls depend only on the plan's seed and the chunk (so workers may share them
    out). `utc` is the suffix a timestamp needs here ("" on SQLite, "+00:00" elsewhere)."""
    rows: list[Row] = []
    paused = gc.isenabled()
    gc.disable()  # millions of short-lived tuples and no cycles: the collector only costs
    try:
        for number, count in enumerate(chunk.counts):
            rows += _company_rows(plan, number, chunk, count, utc)
    finally:
        if paused:
            gc.enable()
    return rows


def _company_rows(plan: TrafficPlan, number: int, chunk: Chunk, count: int, utc: str) -> list[Row]:
    company = plan.companies[number]
    rng = random.Random(f"{plan.seed}-{number}-{chunk.part}")
    model = _model(plan, number).use(rng)
    snap, user_ids = company.snapshot, company.user_ids
    rows: list[Row] = []
    for start in plan.slots.pick(rng, count, chunk.part, chunk.parts):
        trace = simulate(snap, model.script(), _call_id(rng, start), checked=True)
        rows += leg_rows(trace.call_log, start, user_ids, utc)
    return rows


def _model(plan: TrafficPlan, number: int) -> CompanyTraffic:
    """The company's traffic model (its caller pool), made once per plan and process."""
    model = plan.models.get(number)
    if model is None:
        company = plan.companies[number]
        rng = random.Random(f"{plan.seed}-{number}")
        model = plan.models[number] = CompanyTraffic(
            company.snapshot, rng, company.calls, plan.rates
        )
    return model


def leg_rows(legs: Sequence[Any], start: float, user_ids: dict[str, int], utc: str) -> list[Row]:
    owners = [call_rows.user_of(leg, user_ids) for leg in legs]
    first = next((owner for owner in owners if owner is not None), None)
    stamp = _stamper(start, utc)
    return [
        (
            leg.call_id, leg.leg, int(leg.tenant_id),
            owner if owner is not None or leg.leg != 1 else first,
            leg.caller[:16], leg.callee[:16],
            call_rows.DIRECTIONS.get(leg.direction, leg.direction),
            stamp(leg.started_at),
            None if leg.answered_at is None else stamp(leg.answered_at),
            stamp(leg.ended_at), call_rows.disposition(leg),
            leg.forwarded_to[:16] if leg.forwarded_to else None, leg.refused_reason,
            call_rows.queue_id_of(leg),
        )
        for leg, owner in zip(legs, owners, strict=True)
    ]  # fmt: skip


def _stamper(start: float, utc: str) -> Any:
    """Timestamps of one call's legs as the database stores them (formatted once each)."""
    base = EPOCH + timedelta(seconds=round(start, 3))
    seen: dict[float, str] = {}

    def stamp(offset: float) -> str:
        text = seen.get(offset)
        if text is None:
            moment = base + timedelta(seconds=offset)
            text = seen[offset] = moment.isoformat(" ", "microseconds") + utc
        return text

    return stamp


def _call_id(rng: random.Random, start: float) -> str:
    """A time-ordered UUID (version 7: milliseconds since 1970, then random bits) from the
    plan's generator: reproducible, and the call-id index grows at its end."""
    h = f"{int(start * 1000):012x}7{rng.getrandbits(76):019x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def insert_rows(session: Session, rows: list[Row]) -> int:
    """Bulk insert with the driver's executemany (the rows are already in column form)."""
    if not rows:
        return 0
    connection = session.connection()
    style = connection.dialect.paramstyle
    mark = "?" if style == "qmark" else "%s"
    sql = f"INSERT INTO call_log ({', '.join(COLUMNS)}) VALUES ({', '.join([mark] * len(COLUMNS))})"
    connection.exec_driver_sql(sql, rows)
    return len(rows)


def utc_suffix(session: Session) -> str:
    return "" if session.get_bind().dialect.name == "sqlite" else "+00:00"


def write_chunk(session: Session, plan: TrafficPlan, chunk: Chunk) -> int:
    """Run and store one chunk of calls; returns the number of rows written."""
    return insert_rows(session, chunk_rows(plan, chunk, utc_suffix(session)))


def generated(
    plan: TrafficPlan, chunks: Sequence[Chunk], utc: str, workers: int = 1
) -> Iterator[tuple[Chunk, list[Row]]]:
    """Each chunk with its rows, in order. With `workers` > 1 the engine runs in that many
    forked processes while the caller inserts (a few chunks ahead at most)."""
    if workers <= 1:
        for chunk in chunks:
            yield chunk, chunk_rows(plan, chunk, utc)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_start_worker, initargs=(plan, utc)) as pool:
        pending: deque[tuple[Chunk, AsyncResult[list[Row]]]] = deque()
        for chunk in chunks:
            pending.append((chunk, pool.apply_async(_worker_rows, (chunk,))))
            if len(pending) > 2 * workers:
                done, result = pending.popleft()
                yield done, result.get()
        while pending:
            done, result = pending.popleft()
            yield done, result.get()


_WORKER: list[tuple[TrafficPlan, str]] = []  # set once in each worker process only


def _start_worker(plan: TrafficPlan, utc: str) -> None:
    _WORKER.append((plan, utc))


def _worker_rows(chunk: Chunk) -> list[Row]:
    plan, utc = _WORKER[0]
    return chunk_rows(plan, chunk, utc)
