"""Exporting the call log (CSV, full numbers, audited; the web layer asks for
re-authentication first) and purging it after each company's retention (`pbx calllog purge`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from pbx.errors import PermissionDenied, ValidationError
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
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def _cell(value: object) -> str:
    """CSV-injection guard: a cell a spreadsheet would run as a formula gets a leading quote
    (a valid E.164 number keeps its + : it is data a spreadsheet shows as a number)."""
    text = value.isoformat() if isinstance(value, datetime) else str(value or "")
    if text.startswith(_FORMULA_START) and not _E164.match(text):
        return "'" + text
    return text


def export_csv(session: Session, actor: Actor, tenant: Tenant, flt: CallFilter) -> str:
    """Every matching call with full numbers, as CSV text. The caller (the web layer) puts
    this behind re-authentication; the export itself is audited with its filters and size."""
    stmt = filtered(visible_calls(actor, tenant), flt)
    count_stmt = select(func.count()).select_from(stmt.limit(EXPORT_LIMIT + 1).subquery())
    if (session.scalar(count_stmt) or 0) > EXPORT_LIMIT:
        raise ValidationError(
            "date_from", f"more than {EXPORT_LIMIT} calls match: narrow the dates", code="too_many"
        )
    entries = session.scalars(stmt.order_by(CallLogEntry.started_at, CallLogEntry.id))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    rows = 0
    for entry in entries:
        writer.writerow([_cell(getattr(entry, column)) for column in EXPORT_COLUMNS])
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
