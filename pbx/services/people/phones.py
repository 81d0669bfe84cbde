"""A user's phones: SIP credentials (separate from the web password) and registrations.

Credentials are made here and shown once ("Mina inställningar / Telefon"); the password is
stored encrypted with a key derived from the secret key (digest authentication needs the
password itself, so a one-way hash cannot serve). Asking again makes new ones: the old
password stops working at once and the phones registered with it are forgotten. Both are
audited and the owner is told, like any credential change (SECURITY.md 17).

Registrations are rows, not memory of one call worker: every worker can ring every phone.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pbx.errors import ValidationError
from pbx.security.secretbox import SecretBox, SecretDecryptionError
from pbx.services.accounts import notify
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.models import PhoneRegistration, SipAccount, Tenant, User, utcnow

LABEL = b"vaxel secretbox v1: sip passwords at rest"
MIN_EXPIRES = 60
MAX_EXPIRES = 3600
DEFAULT_EXPIRES = 3600


@dataclass(frozen=True)
class PhoneCredentials:
    """What a phone needs to register; the password is shown once and never again."""

    username: str
    password: str


@dataclass(frozen=True)
class Contact:
    """Where a registered phone is rung."""

    user_id: int
    contact: str
    transport: str
    host: str
    port: int


@dataclass(frozen=True)
class Registration:
    """A phone registered now, as its owner and their admins see it."""

    user_agent: str
    transport: str
    host: str
    port: int
    expires_at: datetime
    updated_at: datetime


def secret_box(secret_key: str, fallback_keys: tuple[str, ...] = ()) -> SecretBox:
    return SecretBox(secret_key, fallback_keys=fallback_keys, label=LABEL)


def issue_credentials(
    session: Session, box: SecretBox, actor: Actor, user: User, now: datetime | None = None
) -> PhoneCredentials:
    """New SIP credentials for the user's own phones (a user for themselves, or an admin of
    their company). Old ones stop working and their registrations are dropped."""
    actor.require_self_or_admin(user.id, user.tenant_id)
    if user.tenant_id is None or not user.extension:
        raise ValidationError("extension", "A phone needs an extension.", code="no_extension")
    tenant = session.get(Tenant, user.tenant_id)
    assert tenant is not None
    username = f"{tenant.slug}-{user.extension}"
    password = secrets.token_urlsafe(18)
    account = session.scalar(select(SipAccount).where(SipAccount.user_id == user.id))
    if account is None:
        account = SipAccount(user_id=user.id, tenant_id=user.tenant_id)
        session.add(account)
    account.username = username
    account.password_encrypted = box.encrypt(password, associated_data=username)
    account.created_at = now or utcnow()
    session.execute(delete(PhoneRegistration).where(PhoneRegistration.user_id == user.id))
    session.flush()
    audit.record(
        session, actor, "phone.credentials", tenant_id=user.tenant_id,
        target=("user", user.id), new={"username": username},
    )  # fmt: skip
    notify.owner(session, user, "phone_credentials", account.created_at)
    return PhoneCredentials(username, password)


def account_of(session: Session, user: User) -> SipAccount | None:
    return account_by_user(session, user.id)


def account_by_user(session: Session, user_id: int) -> SipAccount | None:
    return session.scalar(select(SipAccount).where(SipAccount.user_id == user_id))


def account_by_username(session: Session, username: str) -> SipAccount | None:
    return session.scalar(select(SipAccount).where(SipAccount.username == username))


def password_for(session: Session, box: SecretBox, username: str) -> tuple[SipAccount, str] | None:
    """The account and its password for digest checks (None: no such account, or one whose
    password cannot be read with the current keys — it must be issued again)."""
    account = session.scalar(select(SipAccount).where(SipAccount.username == username))
    if account is None:
        return None
    try:
        return account, box.decrypt(account.password_encrypted, associated_data=username)
    except SecretDecryptionError:
        return None


def register(
    session: Session,
    account: SipAccount,
    contact: Contact,
    expires: int,
    user_agent: str = "",
    now: datetime | None = None,
) -> int:
    """Add, refresh or (expires 0) remove one contact of the account's user. Returns the
    expiry granted in seconds (0 when removed)."""
    now = now or utcnow()
    stmt = select(PhoneRegistration).where(
        PhoneRegistration.user_id == account.user_id,
        PhoneRegistration.contact == contact.contact,
    )
    existing = session.scalar(stmt)
    if expires <= 0:
        if existing is not None:
            session.delete(existing)
        return 0
    granted = max(MIN_EXPIRES, min(MAX_EXPIRES, expires))
    row = existing or PhoneRegistration(user_id=account.user_id, tenant_id=account.tenant_id)
    row.contact, row.transport = contact.contact[:255], contact.transport
    row.host, row.port, row.user_agent = contact.host, contact.port, user_agent[:128]
    row.expires_at, row.updated_at = now + timedelta(seconds=granted), now
    if existing is None:
        session.add(row)
    session.flush()
    return granted


def contacts_of(session: Session, user_id: int, now: datetime | None = None) -> list[Contact]:
    """Every phone of the user registered now (rung at once when they are called)."""
    rows = session.scalars(
        select(PhoneRegistration)
        .where(PhoneRegistration.user_id == user_id)
        .where(PhoneRegistration.expires_at > (now or utcnow()))
        .order_by(PhoneRegistration.id)
    )
    return [Contact(r.user_id, r.contact, r.transport, r.host, r.port) for r in rows]


def registrations_of(
    session: Session, user_id: int, now: datetime | None = None
) -> list[Registration]:
    """The user's phones registered now, with the user agent each one gave."""
    rows = session.scalars(
        select(PhoneRegistration)
        .where(PhoneRegistration.user_id == user_id)
        .where(PhoneRegistration.expires_at > (now or utcnow()))
        .order_by(PhoneRegistration.id)
    )
    return [
        Registration(r.user_agent, r.transport, r.host, r.port, r.expires_at, r.updated_at)
        for r in rows
    ]


def registered_users(session: Session, tenant_id: int, now: datetime | None = None) -> set[int]:
    """Users of the company with at least one phone registered now (for the admins' list)."""
    stmt = (
        select(PhoneRegistration.user_id)
        .where(PhoneRegistration.tenant_id == tenant_id)
        .where(PhoneRegistration.expires_at > (now or utcnow()))
    )
    return set(session.scalars(stmt))
