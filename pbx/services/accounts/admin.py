"""What administrators do to accounts: suspend, unsuspend/unlock, force a password reset
(one user, one company, every company), clear a lost authenticator.

Operators act on every account, a company admin on their own company's (never operators'),
nobody on themselves. A forced reset never lets the admin choose the password: the account
becomes must-change (its old password stops signing in), every session dies, and a
single-use reset link goes to the owner through the outbox; the links are returned so the CLI
can print them. The mass reset is set-based SQL (no per-row ORM work, no rehashing) so
"reset the passwords of all switchboard customers" takes seconds, not hours.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, insert, literal_column, select, update
from sqlalchemy.orm import Session

from pbx.errors import NotFound, PermissionDenied
from pbx.security import tokens
from pbx.services.accounts import notify
from pbx.services.accounts import totp as accounts_totp
from pbx.services.accounts.core import AccountsConfig, issue_link, rotate_session_token
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.models import AccountToken, OutboxMessage, Tenant, User, UserSession, utcnow


@dataclass(frozen=True)
class ResetLink:
    email: str
    tenant_id: int | None
    link: str


def require_admin_over(actor: Actor, user: User) -> None:
    """Operators manage everyone; a company admin their company's non-operators; a user of
    another company is NotFound (tenant isolation), an own colleague without the right is 403."""
    if actor.user_id is not None and actor.user_id == user.id:
        raise PermissionDenied("you cannot do this to your own account")
    if actor.is_operator:
        return
    if actor.tenant_id is None or user.tenant_id != actor.tenant_id:
        raise NotFound(f"user {user.id} not found")
    if actor.role != "company_admin" or user.role == "operator":
        raise PermissionDenied("only the company's administrators manage its accounts")


def suspend_user(session: Session, actor: Actor, user: User, now: datetime | None = None) -> None:
    """Shut the account off: no login, every session and pending link dies at once."""
    now = now or utcnow()
    require_admin_over(actor, user)
    if user.status == "suspended":
        return
    user.status = "suspended"
    rotate_session_token(session, user, now)
    _retire_links_of(session, User.id == user.id, now)
    _audit(session, actor, user, "user.suspend", {"status": "active"}, {"status": "suspended"}, now)
    notify.owner(session, user, "suspended", now)


def unsuspend_user(session: Session, actor: Actor, user: User, now: datetime | None = None) -> None:
    """Let the account sign in again; this also unlocks it (clears the failure count)."""
    now = now or utcnow()
    require_admin_over(actor, user)
    old = {"status": user.status, "failed_logins": user.failed_logins}
    user.status = "active"
    user.failed_logins = 0
    user.last_failed_at = None
    _audit(
        session, actor, user, "user.unsuspend", old, {"status": "active", "failed_logins": 0}, now
    )


def unlock_user(session: Session, actor: Actor, user: User, now: datetime | None = None) -> None:
    """Clear the failure count of a locked account (after 100 failures)."""
    now = now or utcnow()
    require_admin_over(actor, user)
    old = {"failed_logins": user.failed_logins}
    user.failed_logins = 0
    user.last_failed_at = None
    _audit(session, actor, user, "user.unlock", old, {"failed_logins": 0}, now)


def reset_totp(session: Session, actor: Actor, user: User, now: datetime | None = None) -> None:
    """Clear a lost authenticator; admins and operators must enrol again at their next login."""
    require_admin_over(actor, user)
    accounts_totp.reset_for_user(session, actor, user, now)


def force_reset_user(
    session: Session,
    config: AccountsConfig,
    actor: Actor,
    user: User,
    now: datetime | None = None,
) -> ResetLink:
    now = now or utcnow()
    require_admin_over(actor, user)
    user.must_change_password = True
    rotate_session_token(session, user, now)
    _audit(session, actor, user, "password.forced_reset", None, {"must_change": True}, now)
    link = issue_link(session, config, actor, user, "reset", now)
    return ResetLink(user.email, user.tenant_id, link)


def force_reset_tenant(
    session: Session,
    config: AccountsConfig,
    actor: Actor,
    tenant: Tenant,
    now: datetime | None = None,
) -> list[ResetLink]:
    """Every account of one company (an admin resetting their own company skips themselves)."""
    if not actor.can_manage_tenant(tenant.id):
        raise NotFound(f"company {tenant.id} not found")
    where = User.tenant_id == tenant.id
    if actor.user_id is not None:
        where = where & (User.id != actor.user_id)
    return bulk_reset(session, config, actor, where, now or utcnow())


def force_reset_all(
    session: Session, config: AccountsConfig, actor: Actor, now: datetime | None = None
) -> list[ResetLink]:
    """ "Reset the passwords of all switchboard customers": every company's every account."""
    if not actor.is_operator:
        raise PermissionDenied("only the operator resets every company's passwords")
    return bulk_reset(session, config, actor, User.tenant_id.is_not(None), now or utcnow())


def bulk_reset(
    session: Session,
    config: AccountsConfig,
    actor: Actor,
    where: ColumnElement[bool],
    now: datetime,
) -> list[ResetLink]:
    rows = session.execute(
        select(User.id, User.email, User.tenant_id).where(where).order_by(User.id)
    ).all()
    if not rows:
        return []
    _must_change_and_sign_out(session, where, now)
    links = _insert_links(session, config, rows, now)
    counts = sorted(Counter(r.tenant_id for r in rows).items(), key=_key)
    entries = [
        audit.Entry("password.forced_reset", tenant_id, new={"must_change": True, "accounts": n})
        for tenant_id, n in counts
    ]
    audit.record_many(session, actor, entries, at=now)
    session.expire_all()  # loaded User objects have stale tokens now
    return links


def _must_change_and_sign_out(session: Session, where: ColumnElement[bool], now: datetime) -> None:
    """Three set-based statements: must-change + a new session token per row (made by the
    database), every session row revoked, every unused link retired."""
    session.execute(
        update(User)
        .where(where)
        .values(must_change_password=True, session_token=_random_token_sql(session))
        .execution_options(synchronize_session=False)
    )
    ids = select(User.id).where(where).scalar_subquery()
    session.execute(
        update(UserSession)
        .where(UserSession.user_id.in_(ids), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    _retire_links_of(session, User.id.in_(ids), now)


def _key(item: tuple[int | None, int]) -> int:
    return item[0] or 0


def _random_token_sql(session: Session) -> Any:
    """A fresh random 64-hex-digit session token per row, made by the database."""
    if session.get_bind().dialect.name == "postgresql":
        uuid_hex = "replace(gen_random_uuid()::text, '-', '')"
        return literal_column(f"{uuid_hex} || {uuid_hex}")
    return literal_column("lower(hex(randomblob(32)))")


def _retire_links_of(session: Session, user_where: ColumnElement[bool], now: datetime) -> None:
    session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id.in_(select(User.id).where(user_where).scalar_subquery()),
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


def _insert_links(
    session: Session, config: AccountsConfig, rows: Any, now: datetime
) -> list[ResetLink]:
    token_rows, outbox_rows, links = [], [], []
    expires = now + tokens.RESET_TOKEN_LIFETIME
    subject, body = notify.LINK_TEXTS["reset"]
    for user_id, email, tenant_id in rows:
        token = secrets.token_urlsafe(tokens.TOKEN_BYTES)
        link = config.link(token)
        token_rows.append(_token_row(user_id, tokens.hash_token(token), now, expires))
        outbox_rows.append(
            {
                "tenant_id": tenant_id,
                "user_id": user_id,
                "to_address": email,
                "kind": "reset_link",
                "subject": subject,
                "body": body.format(link=link, expires=expires.strftime("%Y-%m-%d %H:%M UTC")),
                "created_at": now,
            }
        )
        links.append(ResetLink(email, tenant_id, link))
    bulk_insert(session, AccountToken, token_rows)
    bulk_insert(session, OutboxMessage, outbox_rows)
    return links


def bulk_insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows in the session's transaction: COPY on PostgreSQL (a 100,000-row
    INSERT … VALUES takes ten times longer), executemany elsewhere."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(model), rows)
        return
    columns = list(rows[0])
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        statement = f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN"
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])


def _token_row(user_id: int, token_hash: str, now: datetime, expires: datetime) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "token_hash": token_hash,
        "purpose": "reset",
        "created_at": now,
        "expires_at": expires,
    }


def _audit(
    session: Session,
    actor: Actor,
    user: User,
    action: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    now: datetime,
) -> None:
    audit.record(
        session,
        actor,
        action,
        tenant_id=user.tenant_id,
        target=("user", user.id),
        old=old,
        new=new,
        at=now,
    )
