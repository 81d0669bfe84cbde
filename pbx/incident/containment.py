"""Containing a taken-over account (the seed incident's first response, automated).

`contain_user` does, in the caller's transaction and all audited:
1. puts each forwarding rule the attacker changed back to its last known-good value from
   the audit history (only those rules: a change is malicious when it pointed at a number
   the fraudulent traffic went to, or came from the same IP as such a change);
2. suspends the account's outside forwarding: its remaining external rules are switched
   off and a `ForwardingBlock` remembers which, so lifting it switches exactly those on;
3. signs the account out everywhere and forces a password reset (the attacker knows the
   password; the owner gets a single-use reset link) — the accounts services do both;
4. tells the company's admins through the outbox.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import NotFound
from pbx.incident import forwarding_changes as history
from pbx.policies.fraud_rules import price
from pbx.policies.fraud_thresholds import DEFAULTS, Thresholds
from pbx.services.accounts import admin as accounts_admin
from pbx.services.accounts import sessions as accounts_sessions
from pbx.services.accounts.core import AccountsConfig
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from pbx.services.fraud.legs import forwarded_legs
from pbx.services.fraud.reasons import Reason
from pbx.services.fraud.suspension import open_block, suspend_forwarding
from pbx.services.routing import forwarding
from storage.models import (
    FraudAlert,
    OutboxMessage,
    Tenant,
    User,
    utcnow,
)

LOOKBACK = timedelta(days=7)  # how far back containment looks for the attacker's changes


@dataclass
class Containment:
    user_id: int
    email: str
    reverted: dict[str, str] = field(default_factory=dict)  # kind → "old → known good"
    rules_off: list[str] = field(default_factory=list)
    reset_link: str | None = None
    admins_told: int = 0
    already_blocked: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def fraud_destinations(
    session: Session, user: User, since: datetime, until: datetime, t: Thresholds = DEFAULTS
) -> set[str]:
    """Where the account's forwarded legs abroad went in [since, until)."""
    assert user.tenant_id is not None
    tenant = session.get(Tenant, user.tenant_id)
    home = {user.tenant_id: tenant.home_region if tenant else "SE"}
    legs = [
        leg
        for leg in forwarded_legs(session, since, until, user.tenant_id)
        if leg.user_id == user.id
    ]
    return {p.leg.destination for p in price(legs, home, t) if p.international}


def contain_user(
    session: Session,
    config: AccountsConfig | None,
    actor: Actor,
    user: User,
    *,
    reason: Reason,
    destinations: AbstractSet[str] = frozenset(),
    event_ids: AbstractSet[int] = frozenset(),
    alert: FraudAlert | None = None,
    now: datetime | None = None,
) -> Containment:
    """Revert, suspend forwarding, sign out and reset, tell the admins (see the module)."""
    now = now or utcnow()
    if user.tenant_id is None:
        raise NotFound("operators have no forwarding to contain")
    result = Containment(user.id, user.email)
    result.reverted = revert_malicious(session, actor, user, destinations, event_ids, now)
    block = open_block(session, user.id)
    result.already_blocked = block is not None
    if block is None:
        result.rules_off = suspend_forwarding(session, actor, user, str(reason), alert, now)
    elif block.alert_id is None and alert is not None:
        block.alert_id = alert.id  # the call-time cap suspended it; now it is contained too
    accounts_sessions.sign_out_everywhere(session, actor, user, now)
    if config is not None:
        result.reset_link = accounts_admin.force_reset_user(session, config, actor, user, now).link
    result.admins_told = tell_admins(session, user, reason, result)
    audit.record(
        session, actor, "fraud.contained", tenant_id=user.tenant_id, target=("user", user.id),
        new={**result.as_dict(), "reset_link": None, "reason": str(reason),
             "alert_id": alert.id if alert else None},
        at=now,
    )  # fmt: skip
    return result


def revert_malicious(
    session: Session,
    actor: Actor,
    user: User,
    destinations: AbstractSet[str],
    event_ids: AbstractSet[int],
    now: datetime,
) -> dict[str, str]:
    """Put back every rule whose latest change was malicious; returns kind → what changed."""
    changes = history.list_changes(session, now - LOOKBACK, now + timedelta(seconds=1),
                                   user_ids=[user.id])  # fmt: skip
    bad_ips = {
        c.ip for c in changes if c.ip and (c.destination in destinations or c.event_id in event_ids)
    }

    def malicious(change: history.ChangeRow) -> bool:
        return (
            change.event_id in event_ids
            or change.destination in destinations
            or (change.ip is not None and change.ip in bad_ips)
        )

    reverted = {}
    for kind, good in sorted(history.last_known_good(changes, malicious).items()):
        before = forwarding.rule_state(forwarding.find_rule(session, user.id, kind))
        left = history.put_back(session, actor, user, kind, good)
        reverted[kind] = f"{history.describe(before)} → {history.describe(left)}"
    return reverted


def lift_block(
    session: Session, actor: Actor, user: User, now: datetime | None = None
) -> list[str]:
    """End the suspension: switch back on exactly the rules it switched off (those still
    off and still external); returns their kinds."""
    now = now or utcnow()
    block = open_block(session, user.id)
    if block is None:
        raise NotFound(f"{user.email} has no suspended forwarding")
    back = []
    for kind in block.rules_off:
        rule = forwarding.find_rule(session, user.id, kind)
        if rule is not None and not rule.active and rule.destination_kind == "external":
            state = {**(forwarding.rule_state(rule) or {}), "active": True}
            if history.put_back(session, actor, user, kind, state) == state:
                back.append(kind)
    block.lifted_at, block.lifted_by_user_id = now, actor.user_id
    audit.record(
        session, actor, "fraud.block_lifted", tenant_id=user.tenant_id,
        target=("user", user.id), new={"rules_on": back}, at=now,
    )  # fmt: skip
    return back


def tell_admins(session: Session, user: User, reason: Reason, result: Containment) -> int:
    admins = session.scalars(
        select(User).where(
            User.tenant_id == user.tenant_id,
            User.role == "company_admin",
            User.status == "active",
            User.id != user.id,
        )
    ).all()
    changed_sv, changed_en = (
        "; ".join(f"{forwarding.kind_words(k)[i]}: {v}" for k, v in result.reverted.items()) or "-"
        for i in (0, 1)
    )
    why_sv, why_en = reason.sentences()
    body = (
        f"Misstänkt bedrägeri på kontot {user.name} ({user.email}): {why_sv}.\n"
        f"Vi har återställt vidarekopplingen ({changed_sv}), stängt av vidarekoppling till externa "
        f"nummer, loggat ut kontot överallt och skickat en länk för nytt lösenord till ägaren.\n"
        f"Granska kontot i växeln.\n\n"
        f"Suspected fraud on the account {user.name} ({user.email}): {why_en}.\n"
        f"We restored its call forwarding ({changed_en}), suspended forwarding to outside "
        f"numbers, signed the account out everywhere and sent the owner a password reset link.\n"
        f"Please review the account.\n"
    )
    for admin in admins:
        session.add(
            OutboxMessage(
                tenant_id=user.tenant_id, user_id=admin.id, to_address=admin.email,
                kind="fraud_contained", subject="Misstänkt bedrägeri / Suspected fraud",
                body=body,
            )
        )  # fmt: skip
    session.flush()
    return len(admins)
