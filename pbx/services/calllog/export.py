"""Exporting the call log (CSV, full numbers, audited; the web layer asks for
re-authentication first) and purging it after each company's retention (`pbx calllog purge`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from pbx.errors import PermissionDenied, ValidationError
from pbx.policies import spreadsheet
from pbx.services.audit import log as audit
from pbx.services.calllog.query import CallFilter, filtered, visible_calls
from pbx.services.common.actor import Actor
from storage.models import CallLogEntry, Tenant

EXPORT_LIMIT = 100_000
EXPORT_COLUMNS = (
    "started_at",
    "answered_at",
    "ended_at",
    "direction",
    "caller",
    "callee",
    "disposition",
    "forwarded_to",
    "refused_reason",
    "call_id",
    "leg",
)


@dataclass(frozen=True)
class CsvWords:
    """The export's words in the reader's language, given by the web layer: one header per
    column (in EXPORT_COLUMNS order) and labels for stored codes, per column (direction,
    disposition). The defaults are the stored names, for scripts."""

    headers: tuple[str, ...] = EXPORT_COLUMNS
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def row(self, entry: CallLogEntry) -> list[str]:
        cells = []
        for column in EXPORT_COLUMNS:
            value = getattr(entry, column)
            cells.append(spreadsheet.cell(self.values.get(column, {}).get(value, value)))
        return cells


def export_csv(
    session: Session, actor: Actor, tenant: Tenant, flt: CallFilter, words: CsvWords | None = None
) -> str:
    """Every matching call with full numbers, as CSV text, in `words` (headers and labels in
    the reader's language). The caller (the web layer) puts this behind re-authentication;
    the export itself is audited with its filters and size."""
    words = words or CsvWords()
    if len(words.headers) != len(EXPORT_COLUMNS):
        raise ValueError("one header per export column")
    stmt = filtered(visible_calls(actor, tenant), flt)
    count_stmt = select(func.count()).select_from(stmt.limit(EXPORT_LIMIT + 1).subquery())
    if (session.scalar(count_stmt) or 0) > EXPORT_LIMIT:
        raise ValidationError(
            "date_from", f"more than {EXPORT_LIMIT} calls match: narrow the dates", code="too_many"
        )
    entries = session.scalars(stmt.order_by(CallLogEntry.started_at, CallLogEntry.id))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(words.headers)
    rows = 0
    for entry in entries:
        writer.writerow(words.row(entry))
        rows += 1
    audit.record(
        session,
        actor,
        "calllog.export",
        tenant_id=tenant.id,
        target=("tenant", tenant.id),
        new={**flt.audited(), "rows": rows},
    )
    return out.getvalue()


@dataclass(frozen=True)
class PurgeResult:
    tenant_slug: str
    cutoff: datetime
    deleted: int


def purge_expired(
    session: Session, actor: Actor, now: datetime, tenants: Sequence[Tenant], dry_run: bool = False
) -> list[PurgeResult]:
    """Delete each company's call-log entries older than its retention (days before `now`).
    Audited per company that lost rows; `dry_run` only counts."""
    if not actor.is_operator:
        raise PermissionDenied("only the operator's purge job removes call-log entries")
    results = []
    for tenant in tenants:
        cutoff = now - timedelta(days=tenant.calllog_retention_days)
        where = (CallLogEntry.tenant_id == tenant.id) & (CallLogEntry.started_at < cutoff)
        count = session.scalar(select(func.count()).select_from(CallLogEntry).where(where)) or 0
        if count and not dry_run:
            session.execute(delete(CallLogEntry).where(where))
            audit.record(
                session,
                actor,
                "calllog.purge",
                tenant_id=tenant.id,
                target=("tenant", tenant.id),
                new={"deleted": count, "before": cutoff.isoformat()},
            )
        results.append(PurgeResult(tenant.slug, cutoff, count))
    return results
