"""Reading the call log (Samtalslista) the way SECURITY.md 24 asks: company admins see their
company's calls, users their own; numbers are masked unless deliberately revealed; reads and
reveals are audited. Export and retention are in `calllogs_export`.

The seed incident exposed exactly this list (which caller called which company number), so
the listing never hands out a full outside number without an audit entry naming who saw it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Integer,
    Select,
    bindparam,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from pbx.errors import PermissionDenied, ValidationError
from pbx.policies.destinations import InvalidNumber, parse_e164
from pbx.services.audit import log as audit
from pbx.services.calllog.vocabulary import DISPOSITIONS
from pbx.services.common.actor import Actor
from pbx.services.common.scope import get_scoped
from storage.models import CallLogEntry, PhoneNumber, Tenant

PAGE_SIZE = 50
MASK = "•"
# Dates in the filter are the company's calendar days (the product is Swedish).
ZONE = ZoneInfo("Europe/Stockholm")
_EXTENSION = re.compile(r"^[0-9]{2,6}$")
Query = Select[Any]  # a SELECT of CallLogEntry rows


@dataclass(frozen=True)
class CallFilter:
    """What the list shows: a date range (inclusive, Swedish calendar days), a number, a
    disposition."""

    date_from: date | None = None
    date_to: date | None = None
    number: str = ""
    disposition: str = ""

    def audited(self) -> dict[str, object]:
        return {k: str(v) for k, v in asdict(self).items() if v}


def make_filter(
    date_from: str = "", date_to: str = "", number: str = "", disposition: str = ""
) -> CallFilter:
    """Parse the filter form's text fields; each bad field raises its own ValidationError."""
    start, end = _day(date_from, "date_from"), _day(date_to, "date_to")
    if start and end and end < start:
        raise ValidationError("date_to", "the end date is before the start date")
    if disposition and disposition not in DISPOSITIONS:
        raise ValidationError("disposition", "unknown call outcome")
    return CallFilter(start, end, _number(number.strip()), disposition)


def _day(text: str, field: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(field, "dates are written YYYY-MM-DD") from None


def _number(text: str) -> str:
    if not text or _EXTENSION.match(text):
        return text
    try:
        return parse_e164(text)
    except InvalidNumber:
        raise ValidationError(
            "number", "write the number in E.164 format, e.g. +46701234567", code="invalid_number"
        ) from None


def mask(number: str | None) -> str:
    """'+46701234567' → '+46•••••••67'. Extensions (internal) are shown as they are."""
    if not number:
        return ""
    if not number.startswith("+") or len(number) < 7:
        return number
    return number[:3] + MASK * (len(number) - 5) + number[-2:]


class CallRow(NamedTuple):
    """One call as the list shows it. A named tuple, not a frozen dataclass: the list builds
    fifty a page view, and a frozen dataclass sets each field through object.__setattr__."""

    id: int
    started_at: datetime
    caller: str
    callee: str
    direction: str
    disposition: str
    duration_s: int | None
    forwarded_to: str
    refused_reason: str
    masked: bool

    @property
    def duration_text(self) -> str:
        """'3:05' (minutes:seconds) for answered calls, '–' otherwise."""
        if self.duration_s is None:
            return "–"
        return f"{self.duration_s // 60}:{self.duration_s % 60:02d}"

    @classmethod
    def listed(cls, row: Any) -> CallRow:
        """A row of LIST_COLUMNS (unpacked in their order: cheaper than access by name),
        masked except the company's own numbers."""
        (entry_id, started, seconds, caller, callee, direction, disposition, forwarded_to,
         refused, caller_own, callee_own, forwarded_own) = row  # fmt: skip
        return cls(
            entry_id,
            started,
            caller if caller_own else mask(caller),
            callee if callee_own else mask(callee),
            direction,
            disposition,
            seconds,
            forwarded_to if forwarded_own else mask(forwarded_to),
            refused or "",
            True,
        )

    @classmethod
    def revealed(cls, entry: CallLogEntry) -> CallRow:
        """One call with its numbers in full."""
        answered = entry.answered_at
        duration = int((entry.ended_at - answered).total_seconds()) if answered else None
        return cls(
            entry.id,
            entry.started_at,
            entry.caller,
            entry.callee,
            entry.direction,
            entry.disposition,
            duration,
            entry.forwarded_to or "",
            entry.refused_reason or "",
            False,
        )


class _Seconds(FunctionElement[int]):
    """Whole seconds between two timestamps, worked out in SQL (NULL if either is NULL):
    the list then parses one timestamp a row instead of three."""

    type = Integer()
    inherit_cache = True
    name = "seconds_between"


@compiles(_Seconds, "sqlite")
def _seconds_sqlite(element: _Seconds, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(ROUND((julianday({end}) - julianday({start})) * 86400) AS INTEGER)"


@compiles(_Seconds, "postgresql")
def _seconds_postgresql(element: _Seconds, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(ROUND(EXTRACT(EPOCH FROM {end} - {start})) AS INTEGER)"


@dataclass(frozen=True)
class CallPage:
    rows: list[CallRow]
    next_cursor: str  # "" on the last page


def _own(column: Any, name: str) -> Any:
    """Whether `column` holds one of the company's own numbers (shown in full: they are on
    its website, not a caller's), worked out in the list's own query."""
    numbers = select(PhoneNumber.e164).where(PhoneNumber.tenant_id == bindparam("tenant_id"))
    return column.in_(numbers.scalar_subquery()).label(name)


# The list reads plain rows of these columns (no ORM objects for a read-only page), in the
# order CallRow.listed unpacks them.
LIST_COLUMNS = (
    CallLogEntry.id,
    CallLogEntry.started_at,
    _Seconds(CallLogEntry.answered_at, CallLogEntry.ended_at).label("duration_s"),
    CallLogEntry.caller,
    CallLogEntry.callee,
    CallLogEntry.direction,
    CallLogEntry.disposition,
    CallLogEntry.forwarded_to,
    CallLogEntry.refused_reason,
    _own(CallLogEntry.caller, "caller_own"),
    _own(CallLogEntry.callee, "callee_own"),
    _own(CallLogEntry.forwarded_to, "forwarded_to_own"),
)


def visible_calls(actor: Actor, tenant: Tenant) -> Query:
    """The calls `actor` may read (see `_scope_params`), as call-log entries."""
    params = _scope_params(actor, tenant)
    return select(CallLogEntry).where(*_conditions(params)).params(params)


def _scope_params(actor: Actor, tenant: Tenant) -> dict[str, object]:
    """Whose calls `actor` may read, as bound parameters: the company's for its admins,
    their own for users, none for anyone outside the company (operators included:
    SECURITY.md 24)."""
    if actor.tenant_id != tenant.id or actor.role not in ("company_admin", "user"):
        raise PermissionDenied("call logs are for the company's own people")
    if actor.role == "user":
        return {"tenant_id": tenant.id, "user_id": actor.user_id}
    return {"tenant_id": tenant.id}


# Each condition of a call-log query, keyed by its (first) bound parameter: a query's shape
# is the set of parameters it has, so its statement is built once per shape (`_page_query`).
CONDITIONS = {
    "tenant_id": CallLogEntry.tenant_id == bindparam("tenant_id"),
    "user_id": CallLogEntry.user_id == bindparam("user_id"),
    "date_from": CallLogEntry.started_at >= bindparam("date_from"),
    "date_to": CallLogEntry.started_at < bindparam("date_to"),  # the midnight after the day
    "number": or_(
        CallLogEntry.caller == bindparam("number"), CallLogEntry.callee == bindparam("number")
    ),
    "disposition": CallLogEntry.disposition == bindparam("disposition"),
    # Keyset paging by a row-value comparison, so both databases walk the
    # (tenant, started_at) index.
    "after_started": tuple_(CallLogEntry.started_at, CallLogEntry.id)
    < tuple_(
        bindparam("after_started", type_=CallLogEntry.started_at.type),
        bindparam("after_id", type_=CallLogEntry.id.type),
    ),
}


def filter_params(flt: CallFilter) -> dict[str, object]:
    """The filter as bound parameters, named after their CONDITIONS."""
    params: dict[str, object] = {}
    if flt.date_from:
        params["date_from"] = _midnight(flt.date_from)
    if flt.date_to:
        params["date_to"] = _midnight(flt.date_to + timedelta(days=1))
    if flt.number:
        params["number"] = flt.number
    if flt.disposition:
        params["disposition"] = flt.disposition
    return params


def filtered(stmt: Query, flt: CallFilter) -> Query:
    params = filter_params(flt)
    return stmt.where(*_conditions(params)).params(params)


def _conditions(names: Collection[str]) -> list[Any]:
    return [condition for name, condition in CONDITIONS.items() if name in names]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZONE)


@lru_cache(maxsize=256)  # shapes: 2 roles × 2⁵ filter/cursor combinations, × page sizes
def _page_query(names: frozenset[str], limit: int) -> Query:
    """The list's statement for one shape of query. The busiest page of the site: building
    it anew for every view cost more than running it."""
    return (
        select(*LIST_COLUMNS)
        .where(*_conditions(names))
        .order_by(CallLogEntry.started_at.desc(), CallLogEntry.id.desc())
        # Written into the SQL, not bound: PostgreSQL then keeps one plan for the prepared
        # statement, where a bound LIMIT made it plan the query again on every view.
        .limit(literal_column(str(int(limit) + 1)))
    )


def _page_params(actor: Actor, tenant: Tenant, flt: CallFilter, cursor: str) -> dict[str, object]:
    params = {**_scope_params(actor, tenant), **filter_params(flt)}
    if cursor:
        params["after_started"], params["after_id"] = _parse_cursor(cursor)
    return params


def list_calls(
    session: Session,
    actor: Actor,
    tenant: Tenant,
    flt: CallFilter,
    cursor: str = "",
    limit: int = PAGE_SIZE,
) -> CallPage:
    """One page, newest first, numbers masked but the company's own. Keyset paging
    (`cursor` is the last row's "started_at|id"), so page 1,000 costs what page 1 does.
    Audit the read with `calllogs_reads.is_repeat_view` and `record_view`."""
    params = _page_params(actor, tenant, flt, cursor)
    # Plain rows, through the session's connection: the ORM has nothing to add here.
    entries = session.connection().execute(_page_query(frozenset(params), limit), params).all()
    more = len(entries) > limit
    entries = entries[:limit]
    last = entries[-1] if more else None
    next_cursor = f"{last.started_at.isoformat()}|{last.id}" if last else ""
    return CallPage([CallRow.listed(e) for e in entries], next_cursor)


def _parse_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, _, entry_id = cursor.partition("|")
        started = datetime.fromisoformat(stamp)
        if started.tzinfo is None:
            raise ValueError("naive")
        return started, int(entry_id)
    except ValueError:
        raise ValidationError("cursor", "this page link is not valid; start again") from None


def reveal_call(session: Session, actor: Actor, tenant: Tenant, entry_id: object) -> CallRow:
    """Show one call with full numbers: a deliberate act, audited with who and when."""
    entry = get_scoped(session, actor, CallLogEntry, entry_id)
    _scope_params(actor, tenant)  # the actor must also be acting in this company
    if entry.tenant_id != tenant.id:
        raise PermissionDenied("not a call of this company")
    audit.record(session, actor, "calllog.reveal", tenant_id=tenant.id, target=("call", entry.id))
    return CallRow.revealed(entry)
