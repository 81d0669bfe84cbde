"""Call forwarding (vidarekoppling) rules, guarded against toll fraud at save time.

The engine checks every forwarded leg again at call time; this is the first of two gates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx import identifiers
from pbx.engine.validation import DEFAULT_MAX_FORWARD_DEPTH, chain_problem, follow_unconditional
from pbx.errors import ValidationError
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from pbx.services.routing.targets import external_number
from storage.models import ForwardingRule, Tenant, User, utcnow

KINDS = ("unconditional", "busy", "no_answer", "unavailable")
# The kinds in words for the owner's and admins' mails, which go out in both languages.
KIND_WORDS: dict[str, tuple[str, str]] = {
    "unconditional": ("alltid", "always"),
    "busy": ("vid upptaget", "when busy"),
    "no_answer": ("vid ej svar", "when not answered"),
    "unavailable": ("vid ej nåbar", "when unavailable"),
}


def kind_words(kind: str) -> tuple[str, str]:
    """(Swedish, English) words for a forwarding kind."""
    return KIND_WORDS.get(kind, (kind, kind))


def rule_state(rule: ForwardingRule | None) -> dict[str, Any] | None:
    """The values audited before and after a change (enough to revert it later)."""
    if rule is None:
        return None
    return {
        "kind": rule.kind,
        "destination_kind": rule.destination_kind,
        "destination": rule.destination,
        "ring_seconds": rule.ring_seconds,
        "active": rule.active,
    }


def set_forwarding(
    session: Session,
    actor: Actor,
    user: User,
    *,
    kind: str,
    destination: str,
    ring_seconds: int = 20,
    active: bool = True,
    at: datetime | None = None,
) -> ForwardingRule:
    """Save one rule (validated, audited); `at` dates a change replayed from the past."""
    _check_actor(actor, user)
    if kind not in KINDS:
        raise ValidationError("kind", f"kind must be one of {', '.join(KINDS)}")
    if not 5 <= ring_seconds <= 120:
        raise ValidationError("ring_seconds", "ring time must be 5–120 seconds")
    tenant = session.get(Tenant, user.tenant_id)
    assert tenant is not None
    dest_kind, dest = _destination(session, tenant, user, destination.strip())
    rule = find_rule(session, user.id, kind)
    old = rule_state(rule)
    if rule is None:
        rule = ForwardingRule(user_id=user.id, kind=kind)
        session.add(rule)
    rule.destination_kind, rule.destination = dest_kind, dest
    rule.ring_seconds, rule.active = ring_seconds, active
    rule.set_by_user_id, rule.set_at, rule.set_from_ip = actor.user_id, at or utcnow(), actor.ip
    session.flush()
    audit.record(
        session,
        actor,
        "forwarding.set",
        tenant_id=user.tenant_id,
        target=("user", user.id),
        old=old,
        new=rule_state(rule),
        at=at,
    )
    return rule


def clear_forwarding(session: Session, actor: Actor, user: User, kind: str) -> None:
    _check_actor(actor, user)
    rule = find_rule(session, user.id, kind)
    if rule is None:
        return
    old = rule_state(rule)
    session.delete(rule)
    session.flush()
    audit.record(
        session,
        actor,
        "forwarding.clear",
        tenant_id=user.tenant_id,
        target=("user", user.id),
        old=old,
        new=None,
    )


def _check_actor(actor: Actor, user: User) -> None:
    if user.tenant_id is None:
        raise ValidationError("user", "operator accounts have no extension to forward")
    actor.require_self_or_admin(user.id, user.tenant_id)


def _destination(session: Session, tenant: Tenant, user: User, text: str) -> tuple[str, str]:
    if identifiers.looks_like_extension(text):
        target = session.scalar(
            select(User).where(User.tenant_id == tenant.id, User.extension == text)
        )
        if target is None:
            raise ValidationError(
                "destination",
                f"no extension {text} in this company",
                code="unknown_extension",
                params={"extension": text},
            )
        _refuse_chain(session, user, text)
        return "extension", text
    return "external", external_number(tenant, text, "destination")


def _refuse_chain(session: Session, user: User, target_ext: str) -> None:
    """The engine's rule (`chain_problem`): calls reaching the user (the longest way in
    through colleagues' unconditional forwarding) and sent on to `target_ext` and along its
    unconditional forwarding may not come back nor go too deep."""
    ext = user.extension or ""
    way_in = _way_in(session, user, ext, DEFAULT_MAX_FORWARD_DEPTH)
    chain = follow_unconditional(
        (*way_in, ext, target_ext), lambda at: _unconditional_to(session, user, at)
    )
    problem = chain_problem(chain, DEFAULT_MAX_FORWARD_DEPTH)
    if problem == "forwarding_loop":
        raise ValidationError("destination", "this forwarding would make a loop", code=problem)
    if problem == "forwarding_depth":
        raise ValidationError(
            "destination",
            f"forwarding chains are limited to {DEFAULT_MAX_FORWARD_DEPTH} steps",
            code=problem,
            params={"steps": DEFAULT_MAX_FORWARD_DEPTH},
        )


def _way_in(session: Session, user: User, ext: str, depth: int) -> tuple[str, ...]:
    """The longest chain of colleagues whose unconditional forwarding leads to `ext` (at
    most `depth`; a longer one is refused anyway)."""
    feeders = session.scalars(
        select(User.extension)
        .join(ForwardingRule, ForwardingRule.user_id == User.id)
        .where(
            User.tenant_id == user.tenant_id,
            ForwardingRule.kind == "unconditional",
            ForwardingRule.active.is_(True),
            ForwardingRule.destination_kind == "extension",
            ForwardingRule.destination == ext,
            User.id != user.id,
        )
    )
    longest: tuple[str, ...] = ()
    for feeder in feeders if depth > 0 else ():
        way = (*_way_in(session, user, str(feeder), depth - 1), str(feeder))
        longest = way if len(way) > len(longest) else longest
    return longest


def _unconditional_to(session: Session, user: User, ext: str) -> str | None:
    """Where `ext`'s active unconditional forwarding to an extension leads, if it has one."""
    rule = session.scalar(
        select(ForwardingRule)
        .join(User, User.id == ForwardingRule.user_id)
        .where(
            User.tenant_id == user.tenant_id,
            User.extension == ext,
            ForwardingRule.kind == "unconditional",
            ForwardingRule.active.is_(True),
            ForwardingRule.destination_kind == "extension",
        )
    )
    return rule.destination if rule is not None else None


def find_rule(session: Session, user_id: int, kind: str) -> ForwardingRule | None:
    return session.scalar(
        select(ForwardingRule).where(ForwardingRule.user_id == user_id, ForwardingRule.kind == kind)
    )


def rules_of(session: Session, user_id: int) -> list[ForwardingRule]:
    stmt = select(ForwardingRule).where(ForwardingRule.user_id == user_id)
    return sorted(session.scalars(stmt), key=lambda r: KINDS.index(r.kind))
