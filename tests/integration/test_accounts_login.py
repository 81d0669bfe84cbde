"""SECURITY.md 6–12 through the services: TOTP at rest, drift, replay, recovery codes,
per-account back-off and lock for both steps, one failure for every reason, all audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pbx.errors import PermissionDenied
from pbx.security.secretbox import SecretDecryptionError
from pbx.security.totp import Totp
from pbx.services.accounts import admin as accounts_admin
from pbx.services.accounts import core as accounts
from pbx.services.accounts import login
from pbx.services.accounts import totp as accounts_totp
from pbx.services.common.actor import SYSTEM, Actor
from storage.models import AuditEvent, RecoveryCode, User
from tests.builders import make_tenant
from tests.web.accounts import accounts_config, make_account

CONFIG = accounts_config()
STEP = timedelta(seconds=30)


def _now() -> datetime:
    return datetime.now(UTC)


def test_secret_is_encrypted_at_rest_and_bound_to_its_row(session: Session) -> None:
    tenant = make_tenant(session)
    user, _, secret = make_account(session, tenant, role="company_admin")
    other, _, _ = make_account(session, tenant, totp=True)
    assert secret and len(secret) == 32 and secret not in user.totp_secret_enc
    assert accounts_totp.decrypt_secret(CONFIG, user) == secret
    with pytest.raises(SecretDecryptionError):
        CONFIG.secret_box.decrypt(user.totp_secret_enc, f"user:{other.id}")


def test_secret_and_codes_never_reach_the_audit_log(session: Session) -> None:
    user, password, secret = make_account(session, make_tenant(session), role="company_admin")
    logged = json.dumps(
        [[e.old, e.new, e.actor_label] for e in session.scalars(select(AuditEvent))]
    )
    assert secret not in logged and password not in logged
    assert user.totp_secret_enc not in logged


def test_provisioning_uri_names_issuer_and_account(session: Session) -> None:
    user = make_account(session, make_tenant(session))[0]
    offer = accounts_totp.offer(user)
    assert offer.uri.startswith("otpauth://totp/V%C3%A4xel:") and "issuer=V%C3%A4xel" in offer.uri
    assert offer.qr_svg.lstrip().startswith("<svg")


@pytest.mark.parametrize("drift", [-1, 0, 1])
def test_one_step_of_drift_is_accepted(session: Session, drift: int) -> None:
    user, _, secret = make_account(session, make_tenant(session), role="company_admin")
    now = _now() + 2 * STEP  # after the enrolment's step
    code = Totp.code_at(secret, now + drift * STEP)
    login.check_totp(session, CONFIG, user, code, now=now)


@pytest.mark.parametrize("code", ["12345", "1234567", "١٢٣٤٥٦", " 12 34 5", "abcdef"])
def test_malformed_codes_fail(session: Session, code: str) -> None:
    user, _, _ = make_account(session, make_tenant(session), role="company_admin")
    with pytest.raises(login.LoginFailed):
        login.check_totp(session, CONFIG, user, code)


def test_two_steps_of_drift_fail(session: Session) -> None:
    user, _, secret = make_account(session, make_tenant(session), role="company_admin")
    now = _now() + 4 * STEP
    with pytest.raises(login.LoginFailed):
        login.check_totp(session, CONFIG, user, Totp.code_at(secret, now - 2 * STEP), now=now)


def test_same_code_twice_rejected(session: Session) -> None:
    user, _, secret = make_account(session, make_tenant(session), role="company_admin")
    now = _now() + 2 * STEP
    code = Totp.code_at(secret, now)
    login.check_totp(session, CONFIG, user, code, now=now)
    with pytest.raises(login.LoginFailed):
        login.check_totp(session, CONFIG, user, code, now=now)


def test_previous_step_after_current_rejected(session: Session) -> None:
    user, _, secret = make_account(session, make_tenant(session), role="company_admin")
    now = _now() + 3 * STEP
    login.check_totp(session, CONFIG, user, Totp.code_at(secret, now), now=now)
    with pytest.raises(login.LoginFailed):
        login.check_totp(session, CONFIG, user, Totp.code_at(secret, now - STEP), now=now)


def test_step_is_accepted_by_one_atomic_update_even_from_a_stale_read(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as s, s.begin():
        user_id = make_account(s, make_tenant(s), role="company_admin")[0].id
    step = Totp.time_step(_now()) + 5
    with session_factory() as first, session_factory() as second:
        with second.begin():
            stale = second.get(User, user_id)  # read before the other request accepts it
        assert stale.totp_last_step is not None and stale.totp_last_step < step
        with first.begin():
            assert login.accept_step(first, first.get(User, user_id), step)
        with second.begin():
            assert not login.accept_step(second, stale, step)


def test_ten_hashed_single_use_recovery_codes(session: Session) -> None:
    user, _, _ = make_account(session, make_tenant(session), role="company_admin")
    codes = accounts_totp.renew_recovery_codes(session, SYSTEM, user)
    stored = session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all()
    assert len(codes) == len(stored) == 10
    assert not any(code.replace("-", "") in row.code_hash for code in codes for row in stored)
    assert login.check_recovery_code(session, CONFIG, user, codes[3].lower()) == 9
    with pytest.raises(login.LoginFailed):
        login.check_recovery_code(session, CONFIG, user, codes[3])


def test_totp_is_mandatory_for_admins_and_operators(session: Session) -> None:
    tenant = make_tenant(session)
    for role, tenant_of in (("company_admin", tenant), ("operator", None)):
        user, password, _ = make_account(session, tenant_of, role=role, totp=False)
        assert login.check_password(session, CONFIG, user.email, password).next_step == "enrol"
    admin, _, _ = make_account(session, tenant, role="company_admin")
    with pytest.raises(PermissionDenied):
        accounts_totp.disable(session, SYSTEM, admin)
    user, password, _ = make_account(session, tenant)
    assert login.check_password(session, CONFIG, user.email, password).next_step == "done"


def _fail_password(session: Session, user: User, now: datetime) -> None:
    with pytest.raises(login.LoginFailed):
        login.check_password(session, CONFIG, user.email, "wrong wrong wrong wrong", now=now)


def test_back_off_after_five_failures(session: Session) -> None:
    user, password, _ = make_account(session, make_tenant(session))
    now = _now()
    for _ in range(5):
        _fail_password(session, user, now)
    assert user.failed_logins == 5
    with pytest.raises(login.LoginFailed, match="throttled"):
        login.check_password(session, CONFIG, user.email, password, now=now)  # right, too soon
    assert user.failed_logins == 5  # a refused attempt is not even checked
    later = now + CONFIG.throttle.delay_after(5)
    assert login.check_password(session, CONFIG, user.email, password, now=later)


def test_totp_failures_count_on_the_same_account_counter(session: Session) -> None:
    user, password, secret = make_account(session, make_tenant(session), role="company_admin")
    now = _now()
    for _ in range(3):
        _fail_password(session, user, now)
    for _ in range(2):
        with pytest.raises(login.LoginFailed, match="wrong_code"):
            login.check_totp(session, CONFIG, user, "000000", now=now)
    assert user.failed_logins == 5
    with pytest.raises(login.LoginFailed, match="throttled"):
        login.check_totp(session, CONFIG, user, Totp.code_at(secret, now), now=now)


def test_locked_after_100_failures_until_unlocked(session: Session) -> None:
    tenant = make_tenant(session)
    user, password, _ = make_account(session, tenant)
    now = _now()
    for _ in range(100):
        now += CONFIG.throttle.delay_after(user.failed_logins)
        _fail_password(session, user, now)
    assert user.failed_logins == 100
    far_later = now + timedelta(days=30)
    with pytest.raises(login.LoginFailed, match="locked"):
        login.check_password(session, CONFIG, user.email, password, now=far_later)
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(user.id)))
    assert "account.locked" in list(actions)
    accounts_admin.unlock_user(session, SYSTEM, user)
    assert login.check_password(session, CONFIG, user.email, password, now=far_later)


def test_a_reset_link_unlocks_too(session: Session) -> None:
    user, _, _ = make_account(session, make_tenant(session))
    user.failed_logins = 100
    link = accounts.issue_link(session, CONFIG, SYSTEM, user, "reset")
    accounts.complete_link(session, CONFIG, link.rsplit("/", 1)[1], "ny vår i gamla stan nu")
    assert user.failed_logins == 0


def test_every_reason_is_the_same_failure_and_audited(session: Session) -> None:
    tenant = make_tenant(session)
    user, password, _ = make_account(session, tenant)
    suspended, spw, _ = make_account(session, tenant)
    accounts_admin.suspend_user(session, SYSTEM, suspended)
    count = session.scalar(select(func.count()).select_from(AuditEvent))
    attempts = [
        ("nobody@nowhere.se", password),
        (user.email, "wrong password here"),
        (suspended.email, spw),
    ]
    kinds = set()
    for email, pw in attempts:
        with pytest.raises(login.LoginFailed) as caught:
            login.check_password(session, CONFIG, email, pw)
        kinds.add(type(caught.value))
    assert kinds == {login.LoginFailed}
    new = session.scalars(select(AuditEvent).where(AuditEvent.id > count)).all()
    assert [e.action for e in new] == ["login.failed", "login.failed", "login.refused"]
    assert [e.new["reason"] for e in new] == ["unknown", "wrong_password", "suspended"]


def test_company_admin_manages_only_their_own_company(session: Session) -> None:
    a, b = make_tenant(session), make_tenant(session)
    admin, _, _ = make_account(session, a, role="company_admin")
    actor = Actor(admin.id, admin.email, admin.role, admin.tenant_id)
    colleague, _, _ = make_account(session, a)
    stranger, _, _ = make_account(session, b)
    accounts_admin.suspend_user(session, actor, colleague)
    with pytest.raises(accounts_admin.NotFound):
        accounts_admin.suspend_user(session, actor, stranger)
    with pytest.raises(PermissionDenied):
        accounts_admin.suspend_user(session, actor, admin)  # not oneself
    user_actor = Actor(colleague.id, colleague.email, "user", a.id)
    with pytest.raises(PermissionDenied):
        accounts_admin.force_reset_user(session, CONFIG, user_actor, admin)
