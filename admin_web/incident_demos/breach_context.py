"""What the breach demo's steps share: the demo's accounts and numbers, and its context."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_web.runtime import Runtime
from pbx.services.accounts.core import AccountsConfig
from pbx.services.common.actor import Actor, cli_actor
from storage.models import CallLogEntry, User, utcnow

ATTACKER_IP = "203.0.113.66"
FRAUD_NUMBER = "+358401234567"  # a Finnish mobile: Bergström allows Finland
PROBE_NUMBER = "+46701239999"  # a Swedish mobile the attacker points Fjällvind's account at
VICTIMS = ("erik.lindqvist@bergstrom-bygg.example", "elin.sandberg@fjallvind.example")
VICTIM_NUMBER = "+46852001001"  # Erik Lindqvist's direct number


@dataclass
class BreachContext:
    runtime: Runtime
    out_dir: Path
    fraud_calls: int
    calls_per_day: int
    now: datetime = field(default_factory=utcnow)
    passwords: dict[str, str] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> AccountsConfig:
        return AccountsConfig.from_settings(self.runtime.settings)

    @property
    def operator(self) -> Actor:
        return cli_actor("pbx demo breach (operator)")

    def attacker(self, user: User) -> Actor:
        return Actor(user.id, user.email, user.role, user.tenant_id, ATTACKER_IP)

    def victim(self, session: Session, index: int) -> User:
        user = session.scalar(select(User).where(User.email == VICTIMS[index]))
        assert user is not None, f"demo account {VICTIMS[index]} is missing"
        return user


def call_log_rows(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(CallLogEntry)) or 0)


def window_start(ctx: BreachContext) -> datetime:
    return ctx.now - timedelta(days=1)
