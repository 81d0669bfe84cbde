"""Opening hours (öppettider) of a company and of single numbers, and the closed branch of a
number or an IVR key.

A company has one set of hours (made on first use: Monday–Friday 08:00–17:00, every public
holiday and midsommarafton, julafton and nyårsafton closed); a number may have its own, which
then overrides the company's. A number or an IVR key with a closed destination routes to its
ordinary destination while open, and otherwise plays its closed message ("Stängt") and goes
to the closed destination. What counts as open is the pure `pbx.policies.opening_hours`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import ValidationError
from pbx.policies import opening_hours as policy
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from pbx.services.library.slots import require_slot
from pbx.services.routing.targets import Target, load_target, store_target, validate_target
from storage.models import IvrOption, OpeningHours, PhoneNumber, Tenant

DEFAULT_WEEKLY = [[day, 8 * 60, 17 * 60] for day in range(5)]
MAX_CLOSED_DAYS = 400
MAX_NOTE = 100
HOURS_FORMAT = "write hours as 08:00-17:00, the end after the start, without overlaps"


def _check(actor: Actor, tenant: Tenant, number: PhoneNumber | None = None) -> None:
    actor.require_admin(tenant.id, *([number.tenant_id] if number is not None else []))


def find_hours(
    session: Session, tenant_id: int, number_id: int | None = None
) -> OpeningHours | None:
    """The company's hours (number_id None) or a number's own, if set."""
    stmt = select(OpeningHours).where(OpeningHours.tenant_id == tenant_id)
    if number_id is None:
        stmt = stmt.where(OpeningHours.number_id.is_(None))
    else:
        stmt = stmt.where(OpeningHours.number_id == number_id)
    return session.scalars(stmt.order_by(OpeningHours.id)).first()


def hours_of(session: Session, tenant: Tenant, number: PhoneNumber | None = None) -> OpeningHours:
    """The row to edit, made with the defaults when there is none yet (not audited: the
    defaults are what applied before)."""
    row = find_hours(session, tenant.id, number.id if number is not None else None)
    if row is None:
        company = find_hours(session, tenant.id) if number is not None else None
        row = OpeningHours(
            tenant_id=tenant.id,
            number_id=number.id if number is not None else None,
            weekly=list(company.weekly) if company else DEFAULT_WEEKLY,
            open_holidays=list(company.open_holidays) if company else [],
            closed_days=list(company.closed_days) if company else [],
        )
        session.add(row)
        session.flush()
    return row


def all_hours(session: Session, tenant_id: int) -> list[OpeningHours]:
    stmt = select(OpeningHours).where(OpeningHours.tenant_id == tenant_id)
    return list(session.scalars(stmt.order_by(OpeningHours.id)))


def as_policy(row: OpeningHours | None) -> policy.OpeningHours:
    """The stored hours as the engine reads them (none stored: the defaults)."""
    weekly = row.weekly if row is not None else DEFAULT_WEEKLY
    return policy.OpeningHours(
        weekly=tuple(policy.Interval(int(d), int(s), int(e)) for d, s, e in weekly),
        open_holidays=frozenset(row.open_holidays if row is not None else ()),
        closed_days=tuple(
            (date.fromisoformat(day["date"]), str(day.get("note", "")))
            for day in (row.closed_days if row is not None else [])
        ),
    )


def set_weekly(
    session: Session,
    actor: Actor,
    tenant: Tenant,
    days: dict[int, str],
    number: PhoneNumber | None = None,
) -> OpeningHours:
    """Weekly hours from one text per weekday ("08:00-12:00, 13:00-17:00"; empty: closed)."""
    _check(actor, tenant, number)
    weekly: list[list[int]] = []
    for weekday in range(7):
        try:
            intervals = policy.parse_day(weekday, days.get(weekday, ""))
        except policy.InvalidHours as exc:
            raise ValidationError(f"day_{weekday}", HOURS_FORMAT, code="invalid_hours") from exc
        weekly += [[i.weekday, i.start, i.end] for i in intervals]
    row = hours_of(session, tenant, number)
    _change(session, actor, tenant, row, "weekly", weekly)
    return row


def set_open_holidays(
    session: Session,
    actor: Actor,
    tenant: Tenant,
    names: list[str],
    year: int,
    number: PhoneNumber | None = None,
) -> OpeningHours:
    """Which holidays are ordinary days (every other holiday is closed). Names are checked
    against the holidays of `year` (a name kept from other years stays)."""
    _check(actor, tenant, number)
    known = {name for _, name in policy.holiday_names(year)}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValidationError("open_holidays", "not a Swedish holiday")
    row = hours_of(session, tenant, number)
    kept = [name for name in row.open_holidays if name not in known]
    _change(session, actor, tenant, row, "open_holidays", sorted({*kept, *names}))
    return row


def add_closed_day(
    session: Session,
    actor: Actor,
    tenant: Tenant,
    day: str,
    note: str = "",
    number: PhoneNumber | None = None,
) -> OpeningHours:
    """A one-off closed day (e.g. a staff day out)."""
    _check(actor, tenant, number)
    try:
        when = date.fromisoformat(day.strip())
    except ValueError:
        raise ValidationError("date", "write the date as YYYY-MM-DD") from None
    row = hours_of(session, tenant, number)
    days = [d for d in row.closed_days if d["date"] != when.isoformat()]
    if len(days) >= MAX_CLOSED_DAYS:
        raise ValidationError("date", f"at most {MAX_CLOSED_DAYS} closed days")
    days.append({"date": when.isoformat(), "note": " ".join(note.split())[:MAX_NOTE]})
    _change(session, actor, tenant, row, "closed_days", sorted(days, key=lambda d: d["date"]))
    return row


def remove_closed_day(
    session: Session, actor: Actor, tenant: Tenant, day: str, number: PhoneNumber | None = None
) -> OpeningHours:
    _check(actor, tenant, number)
    row = hours_of(session, tenant, number)
    days = [d for d in row.closed_days if d["date"] != day.strip()]
    _change(session, actor, tenant, row, "closed_days", days)
    return row


def drop_number_hours(session: Session, actor: Actor, tenant: Tenant, number: PhoneNumber) -> None:
    """The number follows the company's hours again."""
    _check(actor, tenant, number)
    row = find_hours(session, tenant.id, number.id)
    if row is None:
        return
    session.delete(row)
    session.flush()
    audit.record(
        session, actor, "hours.number_dropped", tenant_id=tenant.id,
        target=("number", number.id), old={"number": number.e164},
    )  # fmt: skip


def _change(
    session: Session, actor: Actor, tenant: Tenant, row: OpeningHours, field: str, value: Any
) -> None:
    old = getattr(row, field)
    if old == value:
        return
    setattr(row, field, value)
    session.flush()
    audit.record(
        session, actor, "hours.update", tenant_id=tenant.id, target=("hours", row.id),
        old={field: old, "number_id": row.number_id}, new={field: value},
    )  # fmt: skip


# --- the closed branch of a number or an IVR key --------------------------------------------


def set_closed_branch(
    session: Session,
    actor: Actor,
    tenant: Tenant,
    row: PhoneNumber | IvrOption,
    closed: Target | None,
    closed_slot_id: int | None = None,
) -> None:
    """Route `row` by opening hours (closed: play `closed_slot_id`, then go to `closed`), or
    not at all (`closed` None: the ordinary destination at any time)."""
    _check(actor, tenant)
    old = closed_branch(row)
    if closed is None:
        store_target(row, "closed", Target("hangup"))
        row.closed_kind, row.closed_slot_id = None, None
    else:
        store_target(row, "closed", validate_target(session, tenant, closed, "closed"))
        if closed_slot_id is not None:
            require_slot(session, tenant, closed_slot_id, "closed_slot_id")
        row.closed_slot_id = closed_slot_id
    session.flush()
    new = closed_branch(row)
    if new != old:
        what = "number" if isinstance(row, PhoneNumber) else "ivr_option"
        audit.record(
            session, actor, "hours.closed_branch", tenant_id=tenant.id, target=(what, row.id),
            old={"closed": old}, new={"closed": new},
        )  # fmt: skip


def closed_branch(row: PhoneNumber | IvrOption) -> dict[str, object] | None:
    """The closed destination and message of a row (None: not routed by hours)."""
    if row.closed_kind is None:
        return None
    return {**load_target(row, "closed").describe(), "slot_id": row.closed_slot_id}
