"""A crafted takeover for the incident tests: a company whose user's account is taken over,
the attacker's forwarding changes, legitimate changes around them, and forwarded traffic.

Built through the services (forwarding changes are audited with their real old → new state);
call-log legs are written with `calllog.write_entries` at chosen times.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pbx.policies.fraud_rules import ZONE
from pbx.services.calllog.entries import write_entries
from pbx.services.common.actor import SYSTEM, Actor
from pbx.services.routing import forwarding, numbers
from pbx.services.routing.targets import Target
from pbx.services.tenants import settings as tenant_settings
from storage.models import Tenant, User, utcnow
from tests.builders import make_tenant, make_user

ATTACKER_IP = "203.0.113.66"
OFFICE_IP = "192.0.2.10"
FRAUD_NUMBER = "+358401234567"  # a Finnish mobile: the company allows Finland


@dataclass
class Takeover:
    tenant: Tenant
    admin: User
    victim: User
    colleague: User
    bystander: User  # another company's user with the same kind of forwarding
    number: str
    changed_at: datetime
    before_attack: dict[str, Any]  # the victim's rules (kind → state) just before the attack

    def day(self) -> str:
        """The Stockholm day of the attack, as the operator's forms take it (ISO date).

        Not `changed_at.date()`: that is the UTC day, one day behind after Stockholm midnight.
        """
        return self.changed_at.astimezone(ZONE).date().isoformat()

    def attacker(self) -> Actor:
        return Actor(self.victim.id, self.victim.email, "user", self.tenant.id, ATTACKER_IP)

    def office_admin(self) -> Actor:
        return Actor(self.admin.id, self.admin.email, "company_admin", self.tenant.id, OFFICE_IP)


def company(session: Session, n: int) -> tuple[Tenant, User, str]:
    tenant = make_tenant(session)
    tenant_settings.set_allowed_countries(session, SYSTEM, tenant, ["FI"])
    admin = make_user(session, tenant, role="company_admin")
    number = f"+46852{n:03d}{uuid.uuid4().int % 1000:03d}"
    numbers.add_number(session, SYSTEM, tenant, number, Target("user", user_id=admin.id))
    return tenant, admin, number


def build_takeover(session: Session) -> Takeover:
    tenant, admin, number = company(session, 1)
    victim, colleague = make_user(session, tenant), make_user(session, tenant)
    other_tenant, _, _ = company(session, 2)
    bystander = make_user(session, other_tenant)
    # Before the attack: the victim's own mobile when busy, the colleague's extension.
    forwarding.set_forwarding(session, SYSTEM, victim, kind="busy", destination=victim.mobile or "")
    forwarding.set_forwarding(
        session, SYSTEM, colleague, kind="no_answer", destination=admin.extension or ""
    )
    forwarding.set_forwarding(
        session, SYSTEM, bystander, kind="unconditional", destination=FRAUD_NUMBER
    )
    before = {
        k: forwarding.rule_state(forwarding.find_rule(session, victim.id, k))
        for k in forwarding.KINDS
    }
    world = Takeover(tenant, admin, victim, colleague, bystander, number, utcnow(), before)
    attacker = world.attacker()
    forwarding.set_forwarding(
        session, attacker, victim, kind="unconditional", destination=FRAUD_NUMBER
    )
    forwarding.set_forwarding(session, attacker, victim, kind="busy", destination=FRAUD_NUMBER)
    # A legitimate change in the middle of it: the admin, from the office.
    forwarding.set_forwarding(
        session,
        world.office_admin(),
        victim,
        kind="no_answer",
        destination=colleague.extension or "",
    )
    forwarding.set_forwarding(
        session, world.office_admin(), colleague, kind="busy", destination=colleague.mobile or ""
    )
    return world


def forwarded_legs(
    world: Takeover,
    count: int,
    *,
    start: datetime,
    destination: str = FRAUD_NUMBER,
    user: User | None = None,
    minutes: int = 3,
    step: timedelta = timedelta(minutes=1),
) -> list[dict[str, Any]]:
    user = user or world.victim
    rows = []
    for i in range(count):
        began = start + step * i
        call_id = str(uuid.uuid4())
        caller = f"+4670555{i:04d}"
        base = {
            "call_id": call_id,
            "tenant_id": user.tenant_id,
            "user_id": user.id,
            "started_at": began,
            "answered_at": began,
            "disposition": "answered",
        }
        rows.append(
            base
            | {
                "leg": 1,
                "caller": caller,
                "callee": world.number,
                "direction": "inbound",
                "ended_at": began + timedelta(minutes=minutes),
                "forwarded_to": destination,
            }
        )
        rows.append(
            base
            | {
                "leg": 2,
                "caller": caller,
                "callee": destination,
                "direction": "forwarded",
                "ended_at": began + timedelta(minutes=minutes),
            }
        )
    return rows


def write_traffic(session: Session, rows: list[dict[str, Any]]) -> int:
    return write_entries(session, rows)
