"""Affected callers (the first notice): every outside number that called one of the affected
companies within the window — the numbers an intruder could have seen in their call logs.

The companies' own numbers are left out: their phone numbers, their users' extensions and
the users' registered mobiles (staff are told by their company, not by letter). Only E.164
numbers are listed (an extension or a withheld number cannot be written to).

Nothing here ever names a company: the CSV has the caller's number, how many calls, the
first and the last; the operator knows which companies were searched, the list does not.

One grouped query over `ix_call_log_tenant_started_caller` (tenant_id, started_at, caller):
each company's window is a range of that index, read without touching the table (see
benchmarks/README.md for the plans and times at 10 million rows).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select, text, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from pbx.errors import ValidationError
from pbx.policies import spreadsheet
from pbx.policies.fraud_rules import ZONE
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from pbx.services.fraud.legs import utc
from storage.models import CallLogEntry, PhoneNumber, User

CSV_HEADER = ("number", "calls", "first_call", "last_call")


class AffectedCaller(NamedTuple):
    """A tuple, not a dataclass: the list can hold hundreds of thousands of numbers."""

    number: str
    calls: int
    first: datetime
    last: datetime


def own_numbers(session: Session, tenant_ids: Sequence[int]) -> set[str]:
    """The companies' phone numbers, extensions and their users' mobiles."""
    numbers = set(
        session.scalars(select(PhoneNumber.e164).where(PhoneNumber.tenant_id.in_(tenant_ids)))
    )
    for extension, mobile in session.execute(
        select(User.extension, User.mobile).where(User.tenant_id.in_(tenant_ids))
    ):
        numbers.update(n for n in (extension, mobile) if n)
    return numbers


def affected_callers(
    session: Session, tenant_ids: Sequence[int], since: datetime, until: datetime
) -> list[AffectedCaller]:
    """Distinct outside callers of the companies in [since, until), by number."""
    if not tenant_ids:
        raise ValidationError("tenant", "name at least one affected company")
    if until <= since:
        raise ValidationError("until", "the end of the window is not after its start")
    c = CallLogEntry
    # The times come back raw (text on SQLite) and are parsed once below: the column type's
    # per-value processing would cost more than the query itself at this size.
    first, last = (type_coerce(f(c.started_at), NullType()) for f in (func.min, func.max))
    stmt = (
        select(c.caller, func.count(), first, last)
        .where(c.tenant_id.in_(tenant_ids), c.started_at >= since, c.started_at < until)
        .group_by(c.caller)
        .order_by(c.caller)
    )
    own = own_numbers(session, tenant_ids)
    if session.get_bind().dialect.name == "postgresql":
        # Hundreds of thousands of groups: let the aggregate stay in memory (this transaction
        # only) instead of spilling to disk in batches.
        session.execute(text("SET LOCAL work_mem = '64MB'"))
    return [
        AffectedCaller(number, calls, utc(first), utc(last))
        for number, calls, first, last in session.execute(stmt)
        if number.startswith("+") and number not in own
    ]


def local(moment: datetime) -> str:
    return moment.astimezone(ZONE).strftime("%Y-%m-%d %H:%M")


def to_csv(callers: Iterable[AffectedCaller]) -> str:
    """number, calls, first_call, last_call (Swedish time) — and nothing else."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for caller in callers:
        writer.writerow(
            spreadsheet.row((caller.number, caller.calls, local(caller.first), local(caller.last)))
        )
    return out.getvalue()


def export(
    session: Session,
    actor: Actor,
    tenant_ids: Sequence[int],
    since: datetime,
    until: datetime,
) -> tuple[list[AffectedCaller], str]:
    """The list and its CSV; the export is audited (which companies, the window, how many
    numbers — never the numbers themselves)."""
    callers = affected_callers(session, tenant_ids, since, until)
    audit.record(
        session, actor, "incident.affected_callers_export",
        new={"tenants": sorted(tenant_ids), "since": since.isoformat(),
             "until": until.isoformat(), "numbers": len(callers)},
    )  # fmt: skip
    return callers, to_csv(callers)
