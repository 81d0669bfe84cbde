"""Accounts: the configuration every account service shares, passwords and one-time links.

An admin never chooses another user's password (SECURITY.md 4): new accounts and resets get
a single-use, short-lived link (only its SHA-256 is stored; the link itself goes to the
owner through the outbox). Changing a password needs the current one. Every credential change
rotates the account's session token, so every signed-in browser of that account is signed out.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pbx.config import ConfigError, Settings
from pbx.errors import PbxError, ValidationError
from pbx.security import tokens
from pbx.security.hashing import HashProfile, hash_password, profile_named, verify_password
from pbx.security.passwords import (
    PasswordContext,
    PasswordProblem,
    english_message,
    validate_password,
)
from pbx.security.secretbox import SecretBox
from pbx.security.throttle import LoginThrottle
from pbx.services.accounts import notify
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.models import AccountToken, Tenant, User, UserSession, utcnow

LinkPurpose = Literal["setup", "reset"]
ROLES_REQUIRING_TOTP = frozenset({"operator", "company_admin"})
LINK_LIFETIMES: dict[str, timedelta] = {
    "setup": tokens.SETUP_TOKEN_LIFETIME,
    "reset": tokens.RESET_TOKEN_LIFETIME,
}
LINK_PATH = "/account/password/"
# The new password is the one it replaces (stored as a blocklist hit of its own kind).
REUSED = PasswordProblem("blocklisted", {"variant": "reused"})


@dataclass(frozen=True)
class AccountsConfig:
    """What account services need from the configuration, built once at start-up."""

    hash_profile: HashProfile
    secret_key: str = field(repr=False)
    public_url: str
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    secret_key_fallbacks: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> AccountsConfig:
        return cls(
            hash_profile=profile_named(settings.password_hash_profile),
            secret_key=settings.secret_key,
            public_url=settings.public_url.rstrip("/"),
            secret_key_fallbacks=settings.secret_key_fallbacks,
        )

    @property
    def secret_box(self) -> SecretBox:
        """Encryption of TOTP secrets; only this needs the secret key (the CLI's link and
        reset commands run without it). Old keys (`secret_key_fallbacks`) still decrypt."""
        if len(self.secret_key) < 32:
            raise ConfigError("PBX_SECRET_KEY must be set (at least 32 characters)")
        return SecretBox(self.secret_key, fallback_keys=self.secret_key_fallbacks)

    def link(self, token: str) -> str:
        return f"{self.public_url}{LINK_PATH}{token}"


class PasswordRejected(ValidationError):
    """The new password breaks the policy; `problems` say why (translated by the web layer)."""

    def __init__(self, problems: list[PasswordProblem]) -> None:
        text = " ".join(problem_text(p) for p in problems)
        super().__init__("password", text, code="password_rejected")
        self.problems = problems


def problem_text(problem: PasswordProblem) -> str:
    if problem == REUSED:
        return "The new password must differ from the current one."
    return english_message(problem)


class WrongPassword(PbxError):
    code = "wrong_password"


class InvalidLink(PbxError):
    """The link is unknown, used, expired, or its account cannot use it."""

    code = "invalid_link"


def totp_required(user: User) -> bool:
    return user.role in ROLES_REQUIRING_TOTP


def new_session_token() -> str:
    """A fresh session uniquifier: every cookie carries it, so a new one signs out all."""
    return secrets.token_hex(32)


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def password_context(session: Session, user: User) -> PasswordContext:
    tenant = session.get(Tenant, user.tenant_id) if user.tenant_id else None
    return PasswordContext(
        user_name=user.name,
        email=user.email,
        company_name=tenant.name if tenant else "",
        extra_words=(tenant.slug,) if tenant else (),
    )


def check_new_password(session: Session, user: User, password: str) -> str:
    """The NFC form to hash, or PasswordRejected with every reason."""
    problems, normalised = validate_password(password, password_context(session, user))
    if not problems and user.password_hash and verify_password(user.password_hash, normalised):
        problems = [REUSED]
    if problems:
        raise PasswordRejected(problems)
    return normalised


def revoke_sessions(session: Session, user_id: int, now: datetime | None = None) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )


def rotate_session_token(session: Session, user: User, now: datetime | None = None) -> None:
    """Sign the account out everywhere: every cookie carries the old token."""
    user.session_token = new_session_token()
    revoke_sessions(session, user.id, now)
    session.flush()


def _store_password(
    session: Session, config: AccountsConfig, user: User, normalised: str, now: datetime
) -> None:
    user.password_hash = hash_password(normalised, config.hash_profile)
    user.password_changed_at = now
    user.must_change_password = False
    user.failed_logins = 0  # a new password unlocks (SECURITY.md 11)
    user.last_failed_at = None
    rotate_session_token(session, user, now)


def change_password(
    session: Session,
    config: AccountsConfig,
    actor: Actor,
    user: User,
    current: str,
    new: str,
    now: datetime | None = None,
) -> None:
    """The owner changes their own password; the current one is required (ASVS 6.2.3)."""
    now = now or utcnow()
    if actor.user_id != user.id:
        raise WrongPassword("only the account's owner changes its password")
    if not user.password_hash or not verify_password(user.password_hash, current):
        audit.record(session, actor, "password.change_failed", target=("user", user.id))
        raise WrongPassword("the current password is wrong")
    normalised = check_new_password(session, user, new)
    _store_password(session, config, user, normalised, now)
    audit.record(session, actor, "password.change", target=("user", user.id))
    notify.owner(session, user, "password_changed", now)


def issue_link(
    session: Session,
    config: AccountsConfig,
    actor: Actor,
    user: User,
    purpose: LinkPurpose,
    now: datetime | None = None,
) -> str:
    """A new single-use link for `user` (older unused ones stop working); sent via the outbox."""
    now = now or utcnow()
    _retire_links(session, [user.id], now)
    issued = tokens.issue_token(now, LINK_LIFETIMES[purpose])
    session.add(
        AccountToken(
            user_id=user.id,
            token_hash=issued.token_hash,
            purpose=purpose,
            created_at=now,
            expires_at=issued.expires_at,
        )
    )
    link = config.link(issued.token)
    notify.link(session, user, purpose, link, issued.expires_at, now)
    audit.record(
        session,
        actor,
        f"account.{purpose}_link",
        tenant_id=user.tenant_id,
        target=("user", user.id),
    )
    return link


def _retire_links(session: Session, user_ids: list[int], now: datetime) -> None:
    session.execute(
        update(AccountToken)
        .where(AccountToken.user_id.in_(user_ids), AccountToken.used_at.is_(None))
        .values(used_at=now)
    )


def peek_link(session: Session, token: str, now: datetime | None = None) -> tuple[User, str]:
    """The account and purpose of a usable link, without using it up."""
    now = now or utcnow()
    row = _usable_token(session, token, now)
    user = session.get(User, row.user_id)
    if user is None or user.status != "active":
        raise InvalidLink("this link is not valid")
    return user, row.purpose


def _usable_token(session: Session, token: str, now: datetime) -> AccountToken:
    if not tokens.looks_like_token(token):
        raise InvalidLink("this link is not valid")
    row = session.scalar(
        select(AccountToken).where(AccountToken.token_hash == tokens.hash_token(token))
    )
    if row is None or row.used_at is not None or tokens.is_expired(row.expires_at, now):
        raise InvalidLink("this link is not valid, has been used or has expired")
    return row


def complete_link(
    session: Session,
    config: AccountsConfig,
    token: str,
    password: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> User:
    """Set the password through a setup/reset link; the link works once."""
    now = now or utcnow()
    user, purpose = peek_link(session, token, now)
    normalised = check_new_password(session, user, password)  # a refusal keeps the link usable
    used = session.execute(
        update(AccountToken)
        .where(
            AccountToken.token_hash == tokens.hash_token(token),
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .values(used_at=now)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidLink("this link has already been used")
    _store_password(session, config, user, normalised, now)
    owner = Actor(user.id, user.email, user.role, user.tenant_id, ip)
    audit.record(session, owner, f"password.{purpose}", target=("user", user.id))
    notify.owner(session, user, "password_changed", now)
    return user
