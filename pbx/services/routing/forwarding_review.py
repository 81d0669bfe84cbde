"""Forwarding changes the owner can see and undo (SECURITY.md 16, 17, 21).

In the seed incident attackers took over accounts and forwarded their numbers abroad; the
owners learnt of it afterwards. Here every change of a user's forwarding (by themselves or by
an admin) leaves a notice in the owner's outbox with a single-use "this wasn't me" link. Using
it puts the forwarding back as it was and suspends the account that made the change, pending
an administrator's review (the company's admins are told).

The fraud guard runs in `pbx.services.routing.forwarding`; `external_destination` runs it
early so a refused number is refused with its reason before the user is asked to re-authenticate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pbx.errors import NotFound, ValidationError
from pbx.identifiers import looks_like_extension
from pbx.security.tokens import hash_token, is_expired, issue_token, looks_like_token
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from pbx.services.routing import forwarding
from pbx.services.routing.targets import external_number
from storage.models import ForwardingNotice, ForwardingRule, OutboxMessage, Tenant, User, utcnow

NOTICE_LIFETIME = timedelta(days=7)
ReviewLink = Callable[[str], str]  # token → absolute URL of the review page
Suspend = Callable[[Session, Actor, User], object]


def external_destination(tenant: Tenant, destination: str) -> str | None:
    """The E.164 form of an external destination the fraud guard accepts (it needs
    re-authentication), None for an extension. A refused number raises ValidationError
    with its reason."""
    text = destination.strip()
    if looks_like_extension(text):
        return None
    return external_number(tenant, text, "destination")


@dataclass(frozen=True)
class ForwardingChange:
    rule: ForwardingRule | None
    notice: ForwardingNotice
    token: str  # goes into the owner's link only; never stored in clear


def change_forwarding(
    session: Session,
    actor: Actor,
    user: User,
    review_link: ReviewLink,
    *,
    kind: str,
    destination: str,
    ring_seconds: int = 20,
    active: bool = True,
    at: datetime | None = None,
) -> ForwardingChange:
    """Set one forwarding rule (validated, audited) and notify its owner."""
    old = forwarding.rule_state(forwarding.find_rule(session, user.id, kind))
    rule = forwarding.set_forwarding(
        session,
        actor,
        user,
        kind=kind,
        destination=destination,
        ring_seconds=ring_seconds,
        active=active,
        at=at,
    )
    new = forwarding.rule_state(rule)
    notice, token = _notify(session, actor, user, kind, old, new, review_link)
    return ForwardingChange(rule, notice, token)


def remove_forwarding(
    session: Session, actor: Actor, user: User, review_link: ReviewLink, kind: str
) -> ForwardingChange | None:
    old = forwarding.rule_state(forwarding.find_rule(session, user.id, kind))
    if old is None:
        return None
    forwarding.clear_forwarding(session, actor, user, kind)
    notice, token = _notify(session, actor, user, kind, old, None, review_link)
    return ForwardingChange(None, notice, token)


def _notify(
    session: Session,
    actor: Actor,
    user: User,
    kind: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    review_link: ReviewLink,
) -> tuple[ForwardingNotice, str]:
    assert user.tenant_id is not None
    issued = issue_token(utcnow(), NOTICE_LIFETIME)
    notice = ForwardingNotice(
        tenant_id=user.tenant_id,
        user_id=user.id,
        changed_by_user_id=actor.user_id,
        kind=kind,
        old=old,
        new=new,
        token_hash=issued.token_hash,
        expires_at=issued.expires_at,
    )
    session.add(notice)
    session.add(_owner_message(user, actor, kind, new, review_link(issued.token)))
    session.flush()
    return notice, issued.token


def describe(state: dict[str, Any] | None) -> str:
    if not state:
        return "ingen / none"
    return str(state["destination"]) + ("" if state.get("active", True) else " (av / off)")


def _owner_message(
    user: User, actor: Actor, kind: str, new: dict[str, Any] | None, link: str
) -> OutboxMessage:
    who = "dig själv / yourself" if actor.user_id == user.id else actor.label
    sv, en = forwarding.kind_words(kind)
    body = (
        f"Vidarekopplingen ({sv}) för {user.name} har ändrats till: {describe(new)}.\n"
        f"Ändrad av: {who}.\n"
        f"Var det inte du? Öppna länken inom 7 dagar för att ångra ändringen; kontot som "
        f"gjorde den stängs av tills en administratör har granskat det:\n{link}\n\n"
        f"Call forwarding ({en}) of {user.name} was changed to: {describe(new)}.\n"
        f"Changed by: {who}.\n"
        f"Wasn't this you? Open the link within 7 days to undo the change; the account that "
        f"made it is suspended until an administrator has reviewed it:\n{link}\n"
    )
    return OutboxMessage(
        tenant_id=user.tenant_id,
        user_id=user.id,
        to_address=user.email,
        kind="forwarding_changed",
        subject="Vidarekoppling ändrad / Call forwarding changed",
        body=body,
    )


def open_notice(session: Session, token: str, now: datetime | None = None) -> ForwardingNotice:
    """The notice behind a review link; unknown, expired and used links are all NotFound."""
    notice = None
    if looks_like_token(token):
        stmt = select(ForwardingNotice).where(ForwardingNotice.token_hash == hash_token(token))
        notice = session.scalar(stmt)
    if (
        notice is None
        or notice.reverted_at is not None
        or is_expired(notice.expires_at, now or utcnow())
    ):
        raise NotFound("this link is not valid any more")
    return notice


@dataclass(frozen=True)
class ReportResult:
    owner: User
    restored: dict[str, Any] | None
    suspended: User | None


def report_change(
    session: Session, token: str, ip: str | None, suspend: Suspend, now: datetime | None = None
) -> ReportResult:
    """ "This wasn't me": restore the forwarding as it was, suspend the account that changed
    it (a tenant account; the system is not suspended), tell the company's admins."""
    now = now or utcnow()
    notice = open_notice(session, token, now)
    _consume(session, notice, now)
    owner = session.get(User, notice.user_id)
    assert owner is not None
    owner_actor = Actor(owner.id, f"{owner.email} (review link)", "user", owner.tenant_id, ip)
    restored = _restore(session, owner_actor, owner, notice)
    suspended = _suspend_changer(session, notice, owner, ip, suspend)
    audit.record(
        session,
        owner_actor,
        "forwarding.reported",
        tenant_id=owner.tenant_id,
        target=("user", owner.id),
        old=notice.new,
        new={"restored": restored, "suspended_user_id": suspended.id if suspended else None},
    )
    _tell_admins(session, owner, suspended)
    return ReportResult(owner, restored, suspended)


def _consume(session: Session, notice: ForwardingNotice, now: datetime) -> None:
    """Single use, also under two concurrent clicks: only one UPDATE finds it unused."""
    result = session.execute(
        update(ForwardingNotice)
        .where(ForwardingNotice.id == notice.id, ForwardingNotice.reverted_at.is_(None))
        .values(reverted_at=now)
        .execution_options(synchronize_session="fetch")
    )
    if getattr(result, "rowcount", 0) != 1:
        raise NotFound("this link is not valid any more")


def _restore(
    session: Session, actor: Actor, owner: User, notice: ForwardingNotice
) -> dict[str, Any] | None:
    """Put the rule back; an old state the guard now refuses is removed instead."""
    old = notice.old
    if old is not None:
        try:
            rule = forwarding.set_forwarding(
                session,
                actor,
                owner,
                kind=notice.kind,
                destination=str(old["destination"]),
                ring_seconds=int(str(old["ring_seconds"])),
                active=bool(old["active"]),
            )
            return forwarding.rule_state(rule)
        except ValidationError:
            pass
    forwarding.clear_forwarding(session, actor, owner, notice.kind)
    return None


def _suspend_changer(
    session: Session, notice: ForwardingNotice, owner: User, ip: str | None, suspend: Suspend
) -> User | None:
    changer = session.get(User, notice.changed_by_user_id) if notice.changed_by_user_id else None
    if changer is None or changer.tenant_id != owner.tenant_id or changer.status != "active":
        return None
    system = Actor(None, f"forwarding review link of {owner.email}", "system", owner.tenant_id, ip)
    suspend(session, system, changer)
    return changer


def _tell_admins(session: Session, owner: User, suspended: User | None) -> None:
    admins = session.scalars(
        select(User).where(
            User.tenant_id == owner.tenant_id,
            User.role == "company_admin",
            User.status == "active",
        )
    )
    who = suspended.email if suspended else "-"
    for admin in admins:
        session.add(
            OutboxMessage(
                tenant_id=owner.tenant_id,
                user_id=admin.id,
                to_address=admin.email,
                kind="forwarding_reported",
                subject="Vidarekoppling anmäld / Forwarding change reported",
                body=(
                    f"{owner.name} har anmält en ändring av sin vidarekoppling som obehörig. "
                    f"Ändringen är ångrad. Avstängt konto: {who}. Granska kontot.\n\n"
                    f"{owner.name} reported a change of their call forwarding as not theirs. "
                    f"The change was undone. Suspended account: {who}. Please review it.\n"
                ),
            )
        )
    session.flush()


def notices_of(session: Session, user_id: int, limit: int = 10) -> list[ForwardingNotice]:
    stmt = (
        select(ForwardingNotice)
        .where(ForwardingNotice.user_id == user_id)
        .order_by(ForwardingNotice.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
