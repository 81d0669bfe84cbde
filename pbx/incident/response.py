"""Containment commands for the operator (console and CLI): suspend accounts (a list, or a
whole company), reset the passwords of one company or of every customer, and undo
forwarding changes in one action.

Suspending and resetting are the accounts services' (`accounts_admin`); this adds the
operator-level batch and one audit entry per batch, next to the services' own per-account
entries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import NotFound
from pbx.incident import forwarding_changes
from pbx.incident.alerts import require_operator
from pbx.services.accounts import admin as accounts_admin
from pbx.services.accounts.admin import ResetLink
from pbx.services.accounts.core import AccountsConfig
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.models import Tenant, User


@dataclass
class SuspendReport:
    suspended: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def suspend_accounts(session: Session, actor: Actor, emails: Iterable[str]) -> SuspendReport:
    """Suspend each account named (e-mail addresses); unknown ones are reported."""
    require_operator(actor)
    wanted = sorted({e.strip().lower() for e in emails if e.strip()})
    found = {
        u.email.lower(): u for u in session.scalars(select(User).where(User.email.in_(wanted)))
    }
    report = SuspendReport(unknown=[e for e in wanted if e not in found])
    _suspend(session, actor, [found[e] for e in wanted if e in found], report)
    audit.record(session, actor, "incident.suspend_accounts", new=report.as_dict())
    return report


def suspend_tenant(session: Session, actor: Actor, tenant: Tenant) -> SuspendReport:
    """Suspend every account of one company."""
    require_operator(actor)
    people = session.scalars(select(User).where(User.tenant_id == tenant.id).order_by(User.id))
    report = SuspendReport()
    _suspend(session, actor, list(people), report)
    audit.record(
        session, actor, "incident.suspend_tenant", tenant_id=tenant.id,
        target=("tenant", tenant.id), new=report.as_dict(),
    )  # fmt: skip
    return report


def _suspend(session: Session, actor: Actor, people: list[User], report: SuspendReport) -> None:
    for user in people:
        if user.status == "suspended":
            report.already.append(user.email)
            continue
        accounts_admin.suspend_user(session, actor, user)
        report.suspended.append(user.email)


def reset_passwords(
    session: Session, config: AccountsConfig, actor: Actor, tenant: Tenant | None
) -> list[ResetLink]:
    """Force a reset of one company's passwords, or (tenant None) of every customer's."""
    require_operator(actor)
    if tenant is None:
        links = accounts_admin.force_reset_all(session, config, actor)
    else:
        links = accounts_admin.force_reset_tenant(session, config, actor, tenant)
    audit.record(
        session, actor, "incident.reset_passwords", tenant_id=tenant.id if tenant else None,
        new={"scope": tenant.slug if tenant else "all customers", "accounts": len(links)},
    )  # fmt: skip
    return links


def revert_forwarding(
    session: Session, actor: Actor, event_ids: Iterable[int]
) -> forwarding_changes.RevertReport:
    """Undo the chosen forwarding changes (audit event ids) in one action."""
    require_operator(actor)
    ids = sorted(set(event_ids))
    if not ids:
        raise NotFound("choose at least one forwarding change")
    report = forwarding_changes.revert_events(session, actor, ids)
    audit.record(
        session, actor, "incident.forwarding_revert",
        new={"events": ids, **report.as_dict()},
    )  # fmt: skip
    return report
