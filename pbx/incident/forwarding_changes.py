"""Forwarding changes from the audit history: list them, find the last known-good values,
and put rules back — through `pbx.services.routing.forwarding`, so every revert is itself a
validated, audited change.

Every change of a forwarding rule is audited as `forwarding.set` / `forwarding.clear` with
the rule's whole state before and after (`forwarding.rule_state`), so the history can say
what each rule was at any moment, who changed it and from which IP.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import ValidationError
from pbx.services.common.actor import Actor
from pbx.services.routing import forwarding
from storage.models import AuditEvent, Tenant, User

ACTIONS = ("forwarding.set", "forwarding.clear")
State = dict[str, Any] | None


@dataclass(frozen=True)
class ChangeRow:
    event_id: int
    at: datetime
    tenant_id: int | None
    tenant_slug: str
    user_id: int
    user_email: str
    kind: str
    actor: str
    actor_user_id: int | None
    ip: str | None
    old: State
    new: State

    @property
    def destination(self) -> str | None:
        return str(self.new["destination"]) if self.new else None

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "at": self.at.isoformat()}


def list_changes(
    session: Session,
    since: datetime,
    until: datetime,
    *,
    tenant_ids: Sequence[int] | None = None,
    user_ids: Sequence[int] | None = None,
    ip: str | None = None,
) -> list[ChangeRow]:
    """Every forwarding change in [since, until), oldest first."""
    stmt = select(AuditEvent).where(
        AuditEvent.action.in_(ACTIONS),
        AuditEvent.target_type == "user",
        AuditEvent.occurred_at >= since,
        AuditEvent.occurred_at < until,
    )
    if tenant_ids is not None:
        stmt = stmt.where(AuditEvent.tenant_id.in_(tenant_ids))
    if user_ids is not None:
        stmt = stmt.where(AuditEvent.target_id.in_([str(u) for u in user_ids]))
    if ip:
        stmt = stmt.where(AuditEvent.ip == ip)
    events = list(session.scalars(stmt.order_by(AuditEvent.id)))
    return _rows(session, events)


def _rows(session: Session, events: list[AuditEvent]) -> list[ChangeRow]:
    user_ids = {int(e.target_id) for e in events if e.target_id.isdigit()}
    emails = {
        k: v for k, v in session.execute(select(User.id, User.email).where(User.id.in_(user_ids)))
    }
    tenant_ids = {e.tenant_id for e in events if e.tenant_id is not None}
    slugs = {
        k: v
        for k, v in session.execute(select(Tenant.id, Tenant.slug).where(Tenant.id.in_(tenant_ids)))
    }
    return [
        ChangeRow(
            event_id=e.id,
            at=e.occurred_at,
            tenant_id=e.tenant_id,
            tenant_slug=slugs.get(e.tenant_id or 0, "-"),
            user_id=int(e.target_id),
            user_email=emails.get(int(e.target_id), "?"),
            kind=_kind(e),
            actor=e.actor_label,
            actor_user_id=e.actor_user_id,
            ip=e.ip,
            old=e.old,
            new=e.new,
        )  # fmt: skip
        for e in events
        if e.target_id.isdigit()
    ]


def _kind(event: AuditEvent) -> str:
    state = event.new or event.old or {}
    return str(state.get("kind", "?"))


def describe(state: State) -> str:
    if not state:
        return "(none)"
    off = "" if state.get("active", True) else " (off)"
    return f"{state['destination']}{off}"


def last_known_good(
    events: Sequence[ChangeRow], malicious: Callable[[ChangeRow], bool]
) -> dict[str, State]:
    """Per kind whose latest change is malicious: the state just before that run of
    malicious changes (the newest state a legitimate change — or the start — left)."""
    by_kind: dict[str, list[ChangeRow]] = defaultdict(list)
    for event in sorted(events, key=lambda e: e.event_id):
        by_kind[event.kind].append(event)
    targets: dict[str, State] = {}
    for kind, run in by_kind.items():
        good = run[0].old
        for event in run:
            if not malicious(event):
                good = event.new
        if malicious(run[-1]):
            targets[kind] = good
    return targets


@dataclass
class RevertReport:
    reverted: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"reverted": self.reverted, "skipped": self.skipped}


def put_back(session: Session, actor: Actor, user: User, kind: str, state: State) -> State:
    """Make the rule `kind` of `user` be `state` (None: no rule); a state the destination
    guard now refuses is removed instead. Returns the state the rule is left in."""
    current = forwarding.rule_state(forwarding.find_rule(session, user.id, kind))
    if current == state:
        return current
    if state is not None:
        try:
            rule = forwarding.set_forwarding(
                session, actor, user, kind=kind, destination=str(state["destination"]),
                ring_seconds=int(state["ring_seconds"]), active=bool(state["active"]),
            )  # fmt: skip
            return forwarding.rule_state(rule)
        except ValidationError:
            pass
    forwarding.clear_forwarding(session, actor, user, kind)
    return None


def revert_events(session: Session, actor: Actor, event_ids: Iterable[int]) -> RevertReport:
    """Undo the chosen changes in one action: each (account, kind) goes back to the state
    before the earliest chosen change — unless a change that was not chosen came after the
    last chosen one (then it is left alone and reported)."""
    chosen = set(event_ids)
    events = _events_of(session, chosen)
    report = RevertReport()
    groups: dict[tuple[int, str], list[ChangeRow]] = defaultdict(list)
    for row in _history_of(session, events):
        groups[(row.user_id, row.kind)].append(row)
    for (user_id, kind), rows in sorted(groups.items()):
        picked = [r for r in rows if r.event_id in chosen]
        if not picked:
            continue
        later = [r for r in rows if r.event_id > picked[-1].event_id and r.event_id not in chosen]
        entry = {"user_id": user_id, "email": rows[0].user_email, "kind": kind}
        if later:
            report.skipped.append({**entry, "reason": f"changed again (event {later[0].event_id})"})
            continue
        user = session.get(User, user_id)
        if user is None:
            report.skipped.append({**entry, "reason": "the account no longer exists"})
            continue
        left = put_back(session, actor, user, kind, picked[0].old)
        report.reverted.append({**entry, "from": describe(rows[-1].new), "to": describe(left)})
    return report


def _events_of(session: Session, event_ids: set[int]) -> list[AuditEvent]:
    if not event_ids:
        return []
    stmt = select(AuditEvent).where(AuditEvent.id.in_(event_ids), AuditEvent.action.in_(ACTIONS))
    return list(session.scalars(stmt))


def _history_of(session: Session, chosen: list[AuditEvent]) -> list[ChangeRow]:
    """Every change since the earliest chosen one of the accounts concerned."""
    if not chosen:
        return []
    users = sorted({int(e.target_id) for e in chosen if e.target_id.isdigit()})
    stmt = select(AuditEvent).where(
        AuditEvent.action.in_(ACTIONS),
        AuditEvent.target_type == "user",
        AuditEvent.target_id.in_([str(u) for u in users]),
        AuditEvent.id >= min(e.id for e in chosen),
    )
    return _rows(session, list(session.scalars(stmt.order_by(AuditEvent.id))))
