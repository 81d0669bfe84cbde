"""Suspending an account's outside forwarding (a `ForwardingBlock`).

Done by the call-time fraud caps (`pbx.services.fraud.guard`) and by the operator's
containment (`pbx.incident.containment`, which also lifts a block).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from pbx.services.routing import forwarding
from storage.models import ForwardingBlock, ForwardingRule, FraudAlert, User


def open_block(session: Session, user_id: int) -> ForwardingBlock | None:
    """The account's forwarding suspension in force, if any (by containment, which links
    it to an alert, or by the call-time caps of `pbx.services.fraud.guard`)."""
    return session.scalar(
        select(ForwardingBlock).where(
            ForwardingBlock.user_id == user_id, ForwardingBlock.lifted_at.is_(None)
        )
    )


def suspend_forwarding(
    session: Session,
    actor: Actor,
    user: User,
    reason: str,
    alert: FraudAlert | None,
    now: datetime,
) -> list[str]:
    """Switch off the account's active external rules (audited as forwarding changes) and
    record the block."""
    rules = session.scalars(
        select(ForwardingRule).where(
            ForwardingRule.user_id == user.id,
            ForwardingRule.destination_kind == "external",
            ForwardingRule.active.is_(True),
        )
    ).all()
    for rule in rules:
        old = forwarding.rule_state(rule)
        rule.active = False
        audit.record(
            session, actor, "forwarding.set", tenant_id=user.tenant_id, target=("user", user.id),
            old=old, new=forwarding.rule_state(rule), at=now,
        )  # fmt: skip
    assert user.tenant_id is not None
    kinds = sorted(rule.kind for rule in rules)
    session.add(
        ForwardingBlock(
            tenant_id=user.tenant_id, user_id=user.id, alert_id=alert.id if alert else None,
            reason=reason[:300], rules_off=kinds, created_at=now,
        )
    )  # fmt: skip
    session.flush()
    return kinds
