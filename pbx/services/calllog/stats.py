"""Call statistics per company and period (issue 17 item 6): calls per number and per queue,
answered / missed / voicemail / forwarded, waiting time in queues, and the busiest hours.

Read from the call log with two grouped queries and one per-queue query, each a range scan of
`ix_call_log_tenant_started` (tenant, start time): the work grows with the company's calls in
the period, never with the whole log (benchmarks/stats_bench.py measures a million rows).
Hours are counted per UTC hour in SQL and turned into Stockholm local hours here (the offset
is whole hours, daylight saving included), so the SQL is the same on both databases save one
expression.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from pbx.errors import ValidationError
from pbx.policies import spreadsheet
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.models import CallLogEntry, Queue

LOCAL = ZoneInfo("Europe/Stockholm")
OUTCOMES = ("answered", "missed", "voicemail", "forwarded")
MAX_DAYS = 366
# The CSV export's columns and sections (what a row counts), as stored names.
CSV_COLUMNS = ("section", "name", "calls", *OUTCOMES, "average_wait_s", "longest_wait_s")
SECTIONS = ("total", "number", "queue", "hour")


@dataclass
class Tally:
    """Calls by outcome (one of OUTCOMES)."""

    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __getitem__(self, outcome: str) -> int:
        return self.counts[outcome]


@dataclass
class QueueStats:
    queue_id: int
    name: str
    calls: int = 0
    answered: int = 0
    waits: list[float] = field(default_factory=list)  # seconds until answered
    gave_up: list[float] = field(default_factory=list)  # seconds until the call left unanswered

    @property
    def average_wait(self) -> float:
        return sum(self.waits) / len(self.waits) if self.waits else 0.0

    @property
    def longest_wait(self) -> float:
        return max(self.waits + self.gave_up, default=0.0)


@dataclass
class CallStats:
    first: date
    last: date
    total: Tally
    by_number: dict[str, Tally]
    queues: list[QueueStats]
    hours: list[int]  # calls started in each local hour 0–23

    @property
    def busiest_hour(self) -> int | None:
        return max(range(24), key=lambda h: self.hours[h]) if any(self.hours) else None


def period(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants bounding local days `first`..`last` (inclusive)."""
    if last < first:
        raise ValidationError("last", "the period ends before it starts", code="bad_period")
    if (last - first).days >= MAX_DAYS:
        raise ValidationError("last", "at most a year at a time", code="long_period")
    start = datetime.combine(first, time(), LOCAL).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), LOCAL).astimezone(UTC)
    return start, end


def outcome(disposition: str, forwarded: bool) -> str:
    """A whole call's outcome: voicemail, forwarded on, answered here, else missed."""
    if disposition == "voicemail":
        return "voicemail"
    if forwarded:
        return "forwarded"
    return "answered" if disposition == "answered" else "missed"


def _calls(tenant_id: int, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """Incoming calls (leg 1: the whole call) of the company started in the period."""
    c = CallLogEntry
    return [
        c.tenant_id == tenant_id, c.started_at >= start, c.started_at < end,
        c.leg == 1, c.direction == "inbound",
    ]  # fmt: skip


def _utc_hour(session: Session) -> ColumnElement[Any]:
    column = CallLogEntry.started_at
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.substr(column, 1, 13)  # SQLite keeps UTC as text "YYYY-MM-DD HH:MM:SS…"


def call_stats(session: Session, tenant_id: int, first: date, last: date) -> CallStats:
    start, end = period(first, last)
    c = CallLogEntry
    forwarded = c.forwarded_to.is_not(None)
    by_number: dict[str, Tally] = {}
    total = Tally()
    rows = session.execute(
        select(c.callee, c.disposition, forwarded, func.count())
        .where(*_calls(tenant_id, start, end))
        .group_by(c.callee, c.disposition, forwarded)
    )
    for callee, disposition, was_forwarded, count in rows:
        kind = outcome(disposition, bool(was_forwarded))
        by_number.setdefault(callee, Tally()).counts[kind] += count
        total.counts[kind] += count
    hours = _hours(session, tenant_id, start, end)
    return CallStats(first, last, total, dict(sorted(by_number.items())),
                     _queues(session, tenant_id, start, end), hours)  # fmt: skip


def _hours(session: Session, tenant_id: int, start: datetime, end: datetime) -> list[int]:
    bucket = _utc_hour(session)
    rows = session.execute(
        select(bucket, func.count()).where(*_calls(tenant_id, start, end)).group_by(bucket)
    )
    hours = [0] * 24
    for text, count in rows:
        moment = datetime.strptime(str(text)[:13], "%Y-%m-%d %H").replace(tzinfo=UTC)
        hours[moment.astimezone(LOCAL).hour] += count
    return hours


def _queues(session: Session, tenant_id: int, start: datetime, end: datetime) -> list[QueueStats]:
    """Each call's stay in each queue: from the first member rung to the answer (a wait) or
    to the last unanswered ring (given up or overflowed)."""
    c = CallLogEntry
    rows = session.execute(
        select(c.queue_id, func.min(c.started_at), func.min(c.answered_at), func.max(c.ended_at))
        .where(
            c.tenant_id == tenant_id,
            c.started_at >= start,
            c.started_at < end,
            c.queue_id.is_not(None),
        )  # fmt: skip
        .group_by(c.call_id, c.queue_id)
    )
    found: dict[int, QueueStats] = {}
    for queue_id, entered, answered, left in rows:
        assert queue_id is not None  # filtered in SQL
        stats = found.setdefault(queue_id, QueueStats(queue_id, ""))
        stats.calls += 1
        if answered is not None:
            stats.answered += 1
            stats.waits.append(_seconds(answered, entered))
        else:
            stats.gave_up.append(_seconds(left, entered))
    named = session.execute(select(Queue.id, Queue.name).where(Queue.tenant_id == tenant_id))
    names = {queue_id: name for queue_id, name in named}
    for stats in found.values():
        stats.name = names.get(stats.queue_id, f"#{stats.queue_id}")
    return sorted(found.values(), key=lambda q: q.name)


def _seconds(later: datetime, earlier: datetime) -> float:
    return max(0.0, (_aware(later) - _aware(earlier)).total_seconds())


def _aware(moment: datetime) -> datetime:
    """Aggregates (min/max) bypass the column type: SQLite hands back text or naive times."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class CsvWords:
    """The export's words in the reader's language, given by the web layer (as for the call
    log's export): one header per column (in CSV_COLUMNS order) and each section's name
    (SECTIONS). The defaults are the stored names, for scripts."""

    headers: tuple[str, ...] = CSV_COLUMNS
    sections: Mapping[str, str] = field(default_factory=dict)

    def section(self, code: str) -> str:
        return self.sections.get(code, code)


def csv_rows(stats: CallStats, words: CsvWords | None = None) -> list[list[str]]:
    """The statistics as CSV rows, headers and section names in `words`."""
    words = words or CsvWords()
    if len(words.headers) != len(CSV_COLUMNS):
        raise ValueError("one header per statistics column")
    total, number, queue, hour = (words.section(code) for code in SECTIONS)
    rows = [list(words.headers)]
    rows.append([total, "", str(stats.total.total), *(str(stats.total[o]) for o in OUTCOMES),
                 "", ""])  # fmt: skip
    for name, tally in stats.by_number.items():
        rows.append([number, name, str(tally.total), *(str(tally[o]) for o in OUTCOMES),
                     "", ""])  # fmt: skip
    for q in stats.queues:
        rows.append([queue, q.name, str(q.calls), str(q.answered), str(q.calls - q.answered),
                     "", "", f"{q.average_wait:.1f}", f"{q.longest_wait:.1f}"])  # fmt: skip
    blank = [""] * 6
    rows += [[hour, f"{h:02d}", str(n), *blank] for h, n in enumerate(stats.hours)]
    return [spreadsheet.row(r) for r in rows]  # a queue may be named like a formula


def export_csv(
    session: Session,
    actor: Actor,
    tenant_id: int,
    first: date,
    last: date,
    words: CsvWords | None = None,
) -> str:
    """The statistics as CSV text in `words` (the reader's language); the export is
    audited like the call log's."""
    found = call_stats(session, tenant_id, first, last)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(csv_rows(found, words))
    audit.record(
        session, actor, "calllog.stats_export", tenant_id=tenant_id,
        new={"first": first.isoformat(), "last": last.isoformat()},
    )  # fmt: skip
    return out.getvalue()
