"""TOTP enrolment, removal and recovery codes (SECURITY.md 6–10).

The secret is made here, shown once (QR code and text), and stored only after the user proved
their app has it by typing a valid code; at rest it is encrypted (AES-GCM) and bound to its
account row. Enrolling gives ten new single-use recovery codes, stored hashed. A change of
second factor rotates the session token (every other browser is signed out) and notifies the
owner. Whether the caller re-authenticated first is the web layer's check (`reauth_required`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from pbx.errors import PbxError, PermissionDenied
from pbx.security import recovery_codes
from pbx.security.secretbox import SecretDecryptionError
from pbx.security.totp import Totp
from pbx.services.accounts import notify
from pbx.services.accounts.core import AccountsConfig, rotate_session_token, totp_required
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.models import RecoveryCode, User, utcnow

log = logging.getLogger(__name__)


class WrongCode(PbxError):
    code = "wrong_code"


@dataclass(frozen=True)
class Enrolment:
    """A secret on offer: what the enrolment page shows."""

    secret: str
    uri: str
    qr_svg: str


def _binding(user: User) -> str:
    return f"user:{user.id}"


def _pending_binding(user: User) -> str:
    return f"totp-enrolment:{user.id}"


class SecretUnreadable(WrongCode):
    """The stored secret does not decrypt with the secret key or any fallback key (the key
    changed without PBX_SECRET_KEY_FALLBACKS, or the row was altered)."""

    code = "totp_unreadable"


def decrypt_secret(config: AccountsConfig, user: User) -> str:
    """The user's TOTP secret. One an old key made (a fallback) is re-encrypted with the
    current key at once, in the caller's transaction."""
    if not user.totp_secret_enc:
        raise WrongCode("no authenticator is enrolled")
    box = config.secret_box
    try:
        secret, stale = box.decrypt_with_age(user.totp_secret_enc, _binding(user))
    except SecretDecryptionError:
        # Never the token or the key: which account, and what to do about it.
        log.error(
            "TOTP secret of user %s cannot be decrypted with the secret key or its fallbacks; "
            "set the old key in PBX_SECRET_KEY_FALLBACKS or reset the user's 2FA",
            user.id,
        )
        raise SecretUnreadable("the stored secret cannot be read") from None
    if stale:
        user.totp_secret_enc = box.encrypt(secret, _binding(user))
    return secret


def offer(user: User, secret: str | None = None) -> Enrolment:
    secret = secret or Totp.new_secret()
    uri = Totp.provisioning_uri(secret, user.email)
    return Enrolment(secret, uri, Totp.qr_svg(uri, title="QR"))


def seal_offer(config: AccountsConfig, user: User, secret: str) -> str:
    """The offered secret, encrypted, for the browser session to carry until confirmation."""
    return config.secret_box.encrypt(secret, _pending_binding(user))


def open_offer(config: AccountsConfig, user: User, sealed: str) -> str:
    try:
        return config.secret_box.decrypt(sealed, _pending_binding(user))
    except SecretDecryptionError:
        raise WrongCode("the enrolment expired; start again") from None


def confirm(
    session: Session,
    config: AccountsConfig,
    actor: Actor,
    user: User,
    secret: str,
    code: str,
    now: datetime | None = None,
) -> list[str]:
    """Store `secret` once `code` proves the app has it; returns ten new recovery codes."""
    now = now or utcnow()
    step = Totp.verify(secret, code.strip(), now, None)
    if step is None:
        raise WrongCode("the code does not match; check the time on your phone and try again")
    replacing = user.totp_secret_enc is not None
    user.totp_secret_enc = config.secret_box.encrypt(secret, _binding(user))
    user.totp_last_step = step  # the enrolment code is used: it cannot sign in again
    codes = _new_recovery_codes(session, user)
    rotate_session_token(session, user, now)
    action = "totp.replace" if replacing else "totp.enrol"
    audit.record(session, actor, action, tenant_id=user.tenant_id, target=("user", user.id), at=now)
    notify.owner(session, user, "totp_enrolled", now)
    return codes


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = recovery_codes.generate_recovery_codes()
    for code_hash in recovery_codes.hash_recovery_codes(codes):
        session.add(RecoveryCode(user_id=user.id, code_hash=code_hash))
    session.flush()
    return codes


def renew_recovery_codes(
    session: Session, actor: Actor, user: User, now: datetime | None = None
) -> list[str]:
    """Ten fresh codes; the old ones stop working."""
    now = now or utcnow()
    if not user.totp_secret_enc:
        raise WrongCode("enrol an authenticator first")
    codes = _new_recovery_codes(session, user)
    audit.record(session, actor, "totp.recovery_codes", target=("user", user.id), at=now)
    notify.owner(session, user, "recovery_codes_renewed", now)
    return codes


def disable(session: Session, actor: Actor, user: User, now: datetime | None = None) -> None:
    """Turn TOTP off, for a user by their own choice (admins and operators must keep it)."""
    now = now or utcnow()
    if totp_required(user):
        raise PermissionDenied("two-factor authentication is required for this role")
    _clear(session, user, now)
    audit.record(session, actor, "totp.disable", target=("user", user.id), at=now)
    notify.owner(session, user, "totp_disabled", now)


def reset_for_user(session: Session, actor: Actor, user: User, now: datetime | None = None) -> None:
    """An admin clears a lost authenticator; the user enrols again at the next login
    (required roles) or may do so later. The caller has checked the admin's right."""
    now = now or utcnow()
    _clear(session, user, now)
    audit.record(
        session, actor, "totp.reset", tenant_id=user.tenant_id, target=("user", user.id), at=now
    )
    notify.owner(session, user, "totp_disabled", now)


def _clear(session: Session, user: User, now: datetime) -> None:
    user.totp_secret_enc = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    rotate_session_token(session, user, now)
