"""The fraud caps at call time (SECURITY.md 22), on top of the destination policy (item 21).

The limits are the fraud rules' hard caps (`pbx.policies.fraud_thresholds`: international
legs per user and company per hour and day, estimated cost per day), counted the way the
fraud scan counts them (`pbx.services.fraud.legs` / `pbx.policies.fraud_rules.price`) over
the last hour and day before the call. The engine enforces the result through the
snapshot's `FraudGuard`: a user over a cap (or whose forwarding is suspended: an open
`ForwardingBlock`, `pbx.services.fraud.suspension`) gets no outside forwarding leg; a
company over its cap gets no international leg. The refused legs are logged and audited
like any other.

When a call takes a user over a cap, `enforce` suspends that user's outside forwarding the
way containment does (rules off, a block that `lift_block` undoes), alerts the user and the
company's admins through the outbox and writes an audit event. The full containment
(password reset, sign-out, reverting changed rules) stays with the operator's fraud scan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.engine.dialplan import FraudGuard
from pbx.policies.fraud_rules import Priced, price
from pbx.policies.fraud_thresholds import DEFAULTS, Limit, Thresholds
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from pbx.services.fraud.legs import forwarded_legs
from pbx.services.fraud.reasons import Reason
from pbx.services.fraud.suspension import open_block, suspend_forwarding
from storage.models import ForwardingBlock, OutboxMessage, Tenant, User, utcnow

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


@dataclass
class Usage:
    """International forwarded legs in the last hour and day, and the day's cost (SEK)."""

    legs_hour: int = 0
    legs_day: int = 0
    cost_day: float = 0.0

    def add(self, leg: Priced, now: datetime) -> None:
        self.legs_day += 1
        self.legs_hour += leg.leg.started_at > now - HOUR
        self.cost_day += leg.cost


def usage(
    session: Session, tenant: Tenant, now: datetime, t: Thresholds = DEFAULTS
) -> tuple[Usage, dict[int, Usage]]:
    """The company's and each user's usage in the day up to `now` (and the call in hand)."""
    legs = forwarded_legs(session, now - DAY, now + DAY, tenant.id)
    total = Usage()
    per_user: defaultdict[int, Usage] = defaultdict(Usage)
    for leg in price(legs, {tenant.id: tenant.home_region}, t):
        if not leg.international or leg.leg.refused:
            continue
        total.add(leg, now)
        if leg.leg.user_id is not None:
            per_user[leg.leg.user_id].add(leg, now)
    return total, dict(per_user)


def _over(pairs: Iterable[tuple[str, float, str, Limit]]) -> Reason | None:
    """The first cap reached, as the rule whose hard cap it is (`reasons` has its words)."""
    for rule, value, unit, limit in pairs:
        if limit.hard_cap is not None and value >= limit.hard_cap:
            return Reason(rule, value, unit, limit.hard_cap)
    return None


def over_user_cap(used: Usage, t: Thresholds = DEFAULTS) -> Reason | None:
    return _over(
        [
            ("intl_legs_user_hour", used.legs_hour, "legs", t.intl_legs_user_hour),
            ("intl_legs_user_day", used.legs_day, "legs", t.intl_legs_user_day),
            ("cost_user_day", round(used.cost_day), "SEK", t.cost_user_day),
        ]
    )


def over_tenant_cap(used: Usage, t: Thresholds = DEFAULTS) -> Reason | None:
    return _over(
        [
            ("intl_legs_tenant_hour", used.legs_hour, "legs", t.intl_legs_tenant_hour),
            ("intl_legs_tenant_day", used.legs_day, "legs", t.intl_legs_tenant_day),
            ("cost_tenant_day", round(used.cost_day), "SEK", t.cost_tenant_day),
        ]
    )


def current_guard(
    session: Session, tenant: Tenant, people: Iterable[User], now: datetime | None = None
) -> FraudGuard:
    """The guard for a snapshot built at `now` (default: the current time)."""
    total, per_user = usage(session, tenant, now or utcnow())
    blocked = set(
        session.scalars(
            select(ForwardingBlock.user_id).where(
                ForwardingBlock.tenant_id == tenant.id, ForwardingBlock.lifted_at.is_(None)
            )
        )
    )
    suspended = frozenset(
        user.extension
        for user in people
        if user.extension
        and (user.id in blocked or over_user_cap(per_user.get(user.id, Usage())) is not None)
    )
    return FraudGuard(suspended, over_tenant_cap(total) is not None)


def enforce(session: Session, actor: Actor, tenant: Tenant, now: datetime) -> list[int]:
    """Suspend the outside forwarding of every user now over a cap; returns their ids."""
    _, per_user = usage(session, tenant, now)
    suspended: list[int] = []
    for user_id, used in sorted(per_user.items()):
        why = over_user_cap(used)
        user = session.get(User, user_id) if why is not None else None
        if user is None or why is None or open_block(session, user_id) is not None:
            continue
        kinds = suspend_forwarding(session, actor, user, str(why), None, now)
        audit.record(
            session, actor, "fraud.cap_crossed", tenant_id=tenant.id, target=("user", user_id),
            new={"reason": str(why), "rules_off": kinds}, at=now,
        )  # fmt: skip
        _alert(session, tenant, user, why, now)
        suspended.append(user_id)
    return suspended


def _alert(session: Session, tenant: Tenant, user: User, why: Reason, now: datetime) -> None:
    why_sv, why_en = why.sentences()
    told = session.scalars(
        select(User).where(
            (User.id == user.id) | ((User.tenant_id == tenant.id) & (User.role == "company_admin"))
        )
    )
    for person in told:
        session.add(
            OutboxMessage(
                tenant_id=tenant.id, user_id=person.id, to_address=person.email,
                kind="forwarding_suspended",
                subject="Vidarekoppling avstängd / Forwarding suspended",
                body=f"Vidarekopplingen till externa nummer för {user.name} stängdes av: "
                f"{why_sv}.\nForwarding to outside numbers of {user.name} was suspended: "
                f"{why_en}.",
                created_at=now,
            )
        )  # fmt: skip
    session.flush()
