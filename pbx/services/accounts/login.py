"""Login: the password step, the TOTP step and the recovery-code path.

Failures are counted per account for both steps (SECURITY.md 11): from the 5th consecutive
failure the next attempt must wait (exponential back-off), at 100 the account is locked until
an admin or a reset unlocks it. An attempt made while waiting is refused without looking at
the password, so it cannot be used to guess faster. Every failure is audited, and the caller
gets one `LoginFailed` whatever the reason, so a message never tells whether an account
exists (SECURITY.md 12). An unknown e-mail costs the same Argon2 verification as a known one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from pbx import identifiers
from pbx.errors import PbxError, ValidationError
from pbx.security import recovery_codes
from pbx.security.hashing import dummy_hash, hash_password, needs_rehash, verify_password
from pbx.security.totp import Totp
from pbx.services.accounts import notify
from pbx.services.accounts.core import AccountsConfig, find_by_email, totp_required
from pbx.services.accounts.totp import SecretUnreadable, decrypt_secret
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.models import RecoveryCode, User, utcnow

NextStep = Literal["totp", "enrol", "done"]


class LoginFailed(PbxError):
    """Any failed step: wrong or unknown, throttled, locked, suspended (one message for all)."""

    code = "login_failed"


class Throttled(LoginFailed):
    """Refused unchecked during the back-off; `wait` is how long until the next attempt.
    Only pages where the person has already shown the password tell it (the code step,
    re-authentication): on the password step it would tell that the account exists."""

    code = "throttled"

    def __init__(self, wait: timedelta) -> None:
        super().__init__("throttled")
        self.wait = wait


class CodeReused(LoginFailed):
    """The right code, but already used (a second submit, or the code just used to sign
    in): refused, yet not a guess, so not counted as a failure of the back-off."""

    code = "code_reused"


class TotpUnreadable(LoginFailed):
    """The code step cannot be checked: the stored secret does not decrypt (the secret key
    changed). Told as such, since the password was right: a recovery code or an admin's
    2FA reset gets the owner in."""

    code = "totp_unreadable"


class PasswordResetRequired(PbxError):
    """The password was right but was reset by an admin: only the reset link sets a new one."""

    code = "password_reset_required"


@dataclass(frozen=True)
class PasswordStep:
    user: User
    next_step: NextStep


def owner_actor(user: User, ip: str | None) -> Actor:
    return Actor(user.id, user.email, user.role, user.tenant_id, ip)


def check_password(
    session: Session,
    config: AccountsConfig,
    email: str,
    password: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> PasswordStep:
    """The first step; says which step comes next or raises LoginFailed."""
    now = now or utcnow()
    user = _find(session, email)
    if user is None:
        verify_password(dummy_hash(config.hash_profile), password)
        _audit_unknown(session, email, ip, now)
        raise LoginFailed("unknown account")
    _refuse_unless_allowed(session, config, user, ip, now, "password", password)
    if not user.password_hash or not verify_password(user.password_hash, password):
        fail(session, config, user, ip, now, "password", "wrong_password")
    if user.must_change_password:
        audit.record(
            session, owner_actor(user, ip), "login.reset_required", target=_t(user), at=now
        )
        raise PasswordResetRequired("the password was reset; use the link sent to you")
    _rehash_if_needed(config, user, password)
    if user.totp_secret_enc:
        return PasswordStep(user, "totp")
    return PasswordStep(user, "enrol" if totp_required(user) else "done")


def check_own_password(
    session: Session,
    config: AccountsConfig,
    user: User,
    password: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> None:
    """A signed-in person confirms their password (re-authentication, first enrolment);
    failures count like login failures."""
    now = now or utcnow()
    _refuse_unless_allowed(session, config, user, ip, now, "password", password)
    if not user.password_hash or not verify_password(user.password_hash, password):
        fail(session, config, user, ip, now, "password", "wrong_password")


def _find(session: Session, email: str) -> User | None:
    try:
        return find_by_email(session, identifiers.email(email))
    except ValidationError:
        return None


def _t(user: User) -> tuple[str, int]:
    return ("user", user.id)


def _audit_unknown(session: Session, email: str, ip: str | None, now: datetime) -> None:
    try:
        label = identifiers.email(email)  # something typed in the wrong field stays out
    except ValidationError:
        label = "(not an e-mail address)"
    actor = Actor(None, label[:254], "anonymous", None, ip)
    audit.record(
        session, actor, "login.failed", new={"step": "password", "reason": "unknown"}, at=now
    )


def _refuse_unless_allowed(
    session: Session,
    config: AccountsConfig,
    user: User,
    ip: str | None,
    now: datetime,
    step: str,
    password: str | None = None,
) -> None:
    reason = None
    if user.status != "active":
        reason = "suspended"
    elif config.throttle.is_locked(user.failed_logins):
        reason = "locked"
    elif not config.throttle.may_attempt(user.failed_logins, user.last_failed_at, now):
        reason = "throttled"
    if reason is None:
        return
    if password is not None:  # the same time as a real check, whatever the reason
        verify_password(dummy_hash(config.hash_profile), password)
    detail = {"step": step, "reason": reason}
    audit.record(
        session, owner_actor(user, ip), "login.refused", target=_t(user), new=detail, at=now
    )
    allowed_at = config.throttle.next_allowed_at(user.failed_logins, user.last_failed_at)
    if reason == "throttled" and allowed_at is not None:
        raise Throttled(allowed_at - now)
    raise LoginFailed(reason)


def fail(
    session: Session,
    config: AccountsConfig,
    user: User,
    ip: str | None,
    now: datetime,
    step: str,
    reason: str,
) -> None:
    """Count one failure atomically, audit it, lock at the limit; always raises LoginFailed."""
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1, last_failed_at=now)
    )
    session.refresh(user, ["failed_logins", "last_failed_at"])
    detail = {"step": step, "reason": reason, "failures": user.failed_logins}
    actor = owner_actor(user, ip)
    audit.record(session, actor, "login.failed", target=_t(user), new=detail, at=now)
    if user.failed_logins == config.throttle.lock_after:
        audit.record(session, actor, "account.locked", target=_t(user), at=now)
        notify.owner(session, user, "locked", now)
    raise LoginFailed(reason)


def _rehash_if_needed(config: AccountsConfig, user: User, password: str) -> None:
    """Hashes made with older parameters are upgraded at the next successful login."""
    if user.password_hash and needs_rehash(user.password_hash, config.hash_profile):
        user.password_hash = hash_password(password, config.hash_profile)


def check_totp(
    session: Session,
    config: AccountsConfig,
    user: User,
    code: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> None:
    """The second step: a code is accepted once (atomic update of the last accepted step)."""
    now = now or utcnow()
    _refuse_unless_allowed(session, config, user, ip, now, "totp")
    if not user.totp_secret_enc:
        fail(session, config, user, ip, now, "totp", "not_enrolled")
    try:
        secret = decrypt_secret(config, user)
    except SecretUnreadable:
        detail = {"step": "totp", "reason": "totp_unreadable"}
        audit.record(session, owner_actor(user, ip), "login.refused", target=_t(user),
                     new=detail, at=now)  # fmt: skip
        raise TotpUnreadable("totp_unreadable") from None
    step = Totp.verify(secret, code.strip(), now, user.totp_last_step)
    if step is not None and accept_step(session, user, step):
        return
    if Totp.verify(secret, code.strip(), now, None) is not None:  # right, but used already
        detail = {"step": "totp", "reason": "code_reused"}
        audit.record(session, owner_actor(user, ip), "login.refused", target=_t(user),
                     new=detail, at=now)  # fmt: skip
        raise CodeReused("code_reused")
    fail(session, config, user, ip, now, "totp", "wrong_code")


def accept_step(session: Session, user: User, step: int) -> bool:
    """Record `step` as used; False when it (or a later one) was used already (a replay)."""
    result = session.execute(
        update(User)
        .where(User.id == user.id)
        .where(User.totp_last_step.is_(None) | (User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    accepted: bool = result.rowcount == 1  # type: ignore[attr-defined]
    if accepted:  # the row now holds `step`; no need to read it back
        set_committed_value(user, "totp_last_step", step)
    return accepted


def check_recovery_code(
    session: Session,
    config: AccountsConfig,
    user: User,
    code: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> int:
    """Sign in with a recovery code instead of TOTP; returns how many codes are left."""
    now = now or utcnow()
    _refuse_unless_allowed(session, config, user, ip, now, "recovery_code")
    rows = list(
        session.scalars(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
    )
    index = recovery_codes.match_recovery_code(code, [r.code_hash for r in rows])
    if index is None or not _use_code(session, rows[index], now):
        fail(session, config, user, ip, now, "recovery_code", "wrong_code")
    notify.owner(session, user, "recovery_code_used", now)
    return len(rows) - 1


def _use_code(session: Session, row: RecoveryCode, now: datetime) -> bool:
    result = session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def record_login(
    session: Session, user: User, ip: str | None, via: str, now: datetime | None = None
) -> None:
    """The last step succeeded: clear the failure count, note when and from where."""
    now = now or utcnow()
    user.failed_logins = 0
    user.last_failed_at = None
    user.last_login_at = now
    user.last_login_ip = ip
    audit.record(
        session, owner_actor(user, ip), "login.success", target=_t(user), new={"via": via}, at=now
    )
