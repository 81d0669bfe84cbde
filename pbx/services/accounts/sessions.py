"""Signed-in browsers (SECURITY.md 13–14).

A browser's cookie carries the account's rotating session token *and* a random session id
whose SHA-256 is a `UserSession` row. The row is what makes timeouts server-side (a copied
cookie does not outlive them: idle ≤ 30 min, absolute ≤ 12 h) and lets the owner see their
sessions and end one. Rotating the token ends all of them at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from pbx.errors import NotFound
from pbx.services.accounts import notify
from pbx.services.accounts.core import rotate_session_token
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.models import Tenant, User, UserSession, utcnow

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
# Writing last_seen_at on every request would turn each page view into a write.
TOUCH_INTERVAL = timedelta(seconds=60)


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


def start(
    session: Session,
    user: User,
    ip: str | None,
    user_agent: str | None,
    now: datetime | None = None,
) -> tuple[str, UserSession]:
    """A new signed-in browser: the session id for its cookie, and its row."""
    now = now or utcnow()
    sid = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        sid_hash=_hash(sid),
        created_at=now,
        last_seen_at=now,
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(row)
    session.flush()
    return sid, row


def is_live(row: UserSession, now: datetime) -> bool:
    return (
        row.revoked_at is None
        and now - row.created_at < ABSOLUTE_TIMEOUT
        and now - row.last_seen_at < IDLE_TIMEOUT
    )


# Built once, values bound per request: every signed-in page view runs this query, and
# building the statement anew each time cost more than running it.
RESUME = (
    select(User, UserSession, Tenant)
    .join(UserSession, UserSession.user_id == User.id)
    .outerjoin(Tenant, Tenant.id == User.tenant_id)
    .where(User.session_token == bindparam("token"), UserSession.sid_hash == bindparam("sid_hash"))
)


class Resumed(NamedTuple):
    """Who is behind a cookie: the account, its browser session and its company (None for
    operators). Keeping the company referenced keeps it in the session's identity map, so
    the page's `session.get(Tenant, id)` needs no query of its own."""

    account: User
    browser: UserSession
    company: Tenant | None


def resume(
    session: Session, session_token: object, sid: object, now: datetime | None = None
) -> Resumed | None:
    """The active account, live browser session and company behind a cookie (its rotating
    session token and browser id), in one query; None when the account or the session is
    gone, ended, timed out or suspended. Reading only: see `needs_touch` and `touch`."""
    now = now or utcnow()
    if not isinstance(session_token, str) or not isinstance(sid, str) or not sid:
        return None
    found = session.execute(RESUME, {"token": session_token, "sid_hash": _hash(sid)}).first()
    if found is None:
        return None
    resumed = Resumed(*found)
    if resumed.account.status != "active" or not is_live(resumed.browser, now):
        return None
    return resumed


def needs_touch(row: UserSession, now: datetime | None = None) -> bool:
    """Whether the idle clock of `row` is due to be moved on (at most once a minute)."""
    return (now or utcnow()) - row.last_seen_at >= TOUCH_INTERVAL


def touch(session: Session, session_id: int, now: datetime | None = None) -> None:
    """Move a session's idle clock on. A single UPDATE, meant as the first statement of a
    short transaction of its own: on SQLite it then waits for the write lock instead of
    failing after the request's reads. A revoked session stays revoked (the row's
    `revoked_at` is untouched), and a concurrent touch is harmless."""
    now = now or utcnow()
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.last_seen_at < now)
        .values(last_seen_at=now)
    )


def end_current(session: Session, sid: object, now: datetime | None = None) -> None:
    """Log out: the session's row is revoked, so the cookie is dead even if copied."""
    if isinstance(sid, str) and sid:
        row = session.scalar(select(UserSession).where(UserSession.sid_hash == _hash(sid)))
        if row is not None and row.revoked_at is None:
            row.revoked_at = now or utcnow()


def list_live(session: Session, user: User, now: datetime | None = None) -> list[UserSession]:
    """The account's sessions that still work, newest first."""
    now = now or utcnow()
    rows = session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .order_by(UserSession.last_seen_at.desc())
    )
    return [row for row in rows if is_live(row, now)]


def end(
    session: Session, actor: Actor, user: User, session_id: int, now: datetime | None = None
) -> None:
    """End one session of `user` (the caller loaded `user` through the tenant scope)."""
    now = now or utcnow()
    row = session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        raise NotFound(f"session {session_id} not found")
    row.revoked_at = now
    audit.record(
        session,
        actor,
        "session.end",
        tenant_id=user.tenant_id,
        target=("user", user.id),
        new={"session": row.id},
        at=now,
    )


def sign_out_everywhere(
    session: Session, actor: Actor, user: User, now: datetime | None = None
) -> None:
    """Rotate the session token: every browser of the account is signed out."""
    now = now or utcnow()
    rotate_session_token(session, user, now)
    audit.record(
        session,
        actor,
        "session.sign_out_everywhere",
        tenant_id=user.tenant_id,
        target=("user", user.id),
        at=now,
    )
    notify.owner(session, user, "signed_out_everywhere", now)
