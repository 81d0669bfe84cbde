"""Velocity and cost caps on forwarded and outbound international legs (SECURITY.md 22).

The destination policy (item 21) decides *where* a leg may go; these caps decide *how much*:
answered international minutes and legs per user and per company within the last hour and
the last day, counted from the call log. The engine enforces the result through the
snapshot's `FraudGuard` (a user over a cap has no outside forwarding; a company over its cap
has no international legs). When a call pushes a user over a cap, `enforce` also suspends
that user's outside forwarding rules, alerts the user and the company admins through the
outbox and writes an audit event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.engine.dialplan import FraudGuard
from pbx.policies.destinations import InvalidNumber, classify
from pbx.services import audit
from pbx.services.actor import Actor
from storage.models import CallLogEntry, ForwardingRule, OutboxMessage, Tenant, User, utcnow


@dataclass(frozen=True)
class Caps:
    user_minutes_hour: float = 30.0
    user_minutes_day: float = 120.0
    user_legs_hour: int = 10
    tenant_minutes_hour: float = 60.0
    tenant_minutes_day: float = 300.0


CAPS = Caps()
_LEG_DIRECTIONS = ("forwarded", "outbound")


@dataclass
class _Usage:
    minutes_hour: float = 0.0
    minutes_day: float = 0.0
    legs_hour: int = 0

    def add(self, minutes: float, within_hour: bool) -> None:
        self.minutes_day += minutes
        if within_hour:
            self.minutes_hour += minutes
            self.legs_hour += 1


def usage(session: Session, tenant: Tenant, now: datetime) -> tuple[_Usage, dict[int, _Usage]]:
    """Answered international minutes and legs of the company and of each user."""
    stmt = select(
        CallLogEntry.user_id, CallLogEntry.callee, CallLogEntry.answered_at, CallLogEntry.ended_at
    ).where(
        CallLogEntry.tenant_id == tenant.id,
        CallLogEntry.direction.in_(_LEG_DIRECTIONS),
        CallLogEntry.answered_at.is_not(None),
        CallLogEntry.ended_at > now - timedelta(days=1),
    )
    total = _Usage()
    per_user: dict[int, _Usage] = defaultdict(_Usage)
    for user_id, callee, answered, ended in session.execute(stmt):
        if answered is None or not _international(callee, tenant.home_region):
            continue
        minutes = max(0.0, (ended - answered).total_seconds() / 60)
        within_hour = ended > now - timedelta(hours=1)
        total.add(minutes, within_hour)
        if user_id is not None:
            per_user[user_id].add(minutes, within_hour)
    return total, per_user


def _international(callee: str, home_region: str) -> bool:
    try:
        return classify(callee, home_region).category == "international"
    except InvalidNumber:
        return False


def over_user_cap(used: _Usage, caps: Caps = CAPS) -> str | None:
    if used.minutes_hour > caps.user_minutes_hour:
        return "international minutes per hour"
    if used.minutes_day > caps.user_minutes_day:
        return "international minutes per day"
    if used.legs_hour > caps.user_legs_hour:
        return "international legs per hour"
    return None


def over_tenant_cap(used: _Usage, caps: Caps = CAPS) -> str | None:
    if used.minutes_hour > caps.tenant_minutes_hour:
        return "company international minutes per hour"
    if used.minutes_day > caps.tenant_minutes_day:
        return "company international minutes per day"
    return None


def current_guard(
    session: Session, tenant: Tenant, people: Iterable[User], now: datetime | None = None
) -> FraudGuard:
    """The guard for a snapshot built at `now` (default: the current time)."""
    total, per_user = usage(session, tenant, now or utcnow())
    suspended = frozenset(
        user.extension
        for user in people
        if user.extension and over_user_cap(per_user.get(user.id, _Usage())) is not None
    )
    return FraudGuard(suspended, over_tenant_cap(total) is not None)


def enforce(session: Session, actor: Actor, tenant: Tenant, now: datetime) -> list[int]:
    """Suspend the outside forwarding of every user over a cap; returns their ids."""
    _, per_user = usage(session, tenant, now)
    suspended: list[int] = []
    for user_id, used in sorted(per_user.items()):
        why = over_user_cap(used)
        if why is not None and _suspend(session, actor, tenant, user_id, why, now):
            suspended.append(user_id)
    return suspended


def _suspend(
    session: Session, actor: Actor, tenant: Tenant, user_id: int, why: str, now: datetime
) -> bool:
    rules = session.scalars(
        select(ForwardingRule).where(
            ForwardingRule.user_id == user_id,
            ForwardingRule.destination_kind == "external",
            ForwardingRule.active.is_(True),
        )
    ).all()
    if not rules:
        return False
    for rule in rules:
        rule.active = False
    audit.record(
        session, actor, "forwarding.suspended", tenant_id=tenant.id, target=("user", user_id),
        new={"reason": f"fraud cap crossed: {why}", "rules": [r.kind for r in rules]}, at=now,
    )  # fmt: skip
    _alert(session, tenant, user_id, why, now)
    session.flush()
    return True


def _alert(session: Session, tenant: Tenant, user_id: int, why: str, now: datetime) -> None:
    admins = session.scalars(
        select(User).where(
            (User.id == user_id) | ((User.tenant_id == tenant.id) & (User.role == "company_admin"))
        )
    )
    for person in admins:
        session.add(
            OutboxMessage(
                tenant_id=tenant.id, user_id=person.id, to_address=person.email,
                kind="forwarding_suspended",
                subject="Vidarekoppling avstängd / Forwarding suspended",
                body=f"Vidarekoppling till externa nummer stängdes av (user {user_id}): {why}.\n"
                f"Forwarding to outside numbers was suspended (user {user_id}): {why}.",
                created_at=now,
            )
        )  # fmt: skip
