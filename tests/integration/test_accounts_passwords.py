"""SECURITY.md 1–5 through the accounts services, on SQLite and PostgreSQL."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.security.hashing import HashProfile, hash_password
from pbx.services.accounts import admin as accounts_admin
from pbx.services.accounts import core as accounts
from pbx.services.accounts import login
from pbx.services.accounts.core import InvalidLink, PasswordRejected, WrongPassword
from pbx.services.audit.log import verify_chain
from pbx.services.common.actor import SYSTEM, Actor
from storage.models import AccountToken, AuditEvent, OutboxMessage, User, utcnow
from tests.builders import make_tenant, make_user
from tests.web.accounts import accounts_config, make_account

CONFIG = accounts_config()
GOOD = "blåbärssylt på morgonen i skärgården"


def _setup_token(session: Session, user: User) -> str:
    return accounts.issue_link(session, CONFIG, SYSTEM, user, "setup").rsplit("/", 1)[1]


def _problems(session: Session, user: User, password: str) -> list[str]:
    with pytest.raises(PasswordRejected) as caught:
        accounts.complete_link(session, CONFIG, _setup_token(session, user), password)
    return [p.code for p in caught.value.problems]


def test_14_characters_rejected_15_accepted(session: Session) -> None:
    user = make_user(session, make_tenant(session))
    assert "too_short" in _problems(session, user, "kvarn-mjöl-ekb")  # 14
    accounts.complete_link(session, CONFIG, _setup_token(session, user), "kvarn-mjöl-ekbå")  # 15
    assert login.check_password(session, CONFIG, user.email, "kvarn-mjöl-ekbå").user.id == user.id


def test_long_unicode_passwords_with_spaces_are_kept_whole(session: Session) -> None:
    user = make_user(session, make_tenant(session))
    long_one = "  älgen 🦌 går över isen vid Storsjön medan norrskenet dansar tyst ovanför  "
    assert len(long_one) > 64
    accounts.complete_link(session, CONFIG, _setup_token(session, user), long_one)
    assert login.check_password(session, CONFIG, user.email, long_one)
    with pytest.raises(login.LoginFailed):
        login.check_password(session, CONFIG, user.email, long_one.strip())  # never stripped
    with pytest.raises(login.LoginFailed):
        login.check_password(session, CONFIG, user.email, long_one[:64])  # never truncated


def test_password_is_nfc_normalised(session: Session) -> None:
    user = make_user(session, make_tenant(session))
    accounts.complete_link(session, CONFIG, _setup_token(session, user), GOOD)
    decomposed = unicodedata.normalize("NFD", GOOD)
    assert decomposed != GOOD
    assert login.check_password(session, CONFIG, user.email, decomposed).user.id == user.id


def test_blocklisted_password_rejected_with_the_reason(session: Session) -> None:
    user = make_user(session, make_tenant(session))
    with pytest.raises(PasswordRejected) as caught:
        accounts.complete_link(session, CONFIG, _setup_token(session, user), "passwordpassword123")
    assert [p.code for p in caught.value.problems] == ["blocklisted"]
    assert "common or leaked" in caught.value.message


@pytest.mark.parametrize(
    "password_for",
    [
        lambda u, t: f"{t.name} sommarstuga ute",  # company name
        lambda u, t: f"{u.email.split('@')[0]} grönsaksland",  # e-mail
        lambda u, t: "min 3vaxel telefonkö blå",  # the service's name
        lambda u, t: "snälla vaxel låt mig in nu",
    ],
)
def test_context_words_rejected(session: Session, password_for) -> None:
    tenant = make_tenant(session, name="Kvarnbolaget AB")
    user = make_user(session, tenant)
    assert "contains_context_word" in _problems(session, user, password_for(user, tenant))


def test_stored_hash_is_argon2id_and_rehashed_at_login_when_parameters_change(
    session: Session,
) -> None:
    user, password, _ = make_account(session, make_tenant(session))
    assert user.password_hash.startswith("$argon2id$")
    old = HashProfile("old", time_cost=1, memory_cost_kib=16, parallelism=1)
    user.password_hash = hash_password(password, old)
    login.check_password(session, CONFIG, user.email, password)
    assert "m=8," in user.password_hash  # the configured (test) profile's parameters
    assert login.check_password(session, CONFIG, user.email, password)


def test_change_needs_the_current_password(session: Session) -> None:
    user, password, _ = make_account(session, make_tenant(session))
    actor = Actor(user.id, user.email, user.role, user.tenant_id)
    with pytest.raises(WrongPassword):
        accounts.change_password(session, CONFIG, actor, user, "not the password", GOOD)
    with pytest.raises(PasswordRejected):
        accounts.change_password(session, CONFIG, actor, user, password, password)  # reused
    accounts.change_password(session, CONFIG, actor, user, password, GOOD)
    assert login.check_password(session, CONFIG, user.email, GOOD)


def test_nobody_else_changes_a_password(session: Session) -> None:
    user, password, _ = make_account(session, make_tenant(session))
    with pytest.raises(WrongPassword):
        accounts.change_password(session, CONFIG, SYSTEM, user, password, GOOD)


def test_links_are_single_use_and_short_lived(session: Session) -> None:
    user = make_user(session, make_tenant(session))
    token = _setup_token(session, user)
    stored = session.scalar(select(AccountToken).where(AccountToken.user_id == user.id))
    assert token not in stored.token_hash  # only the SHA-256 is kept
    assert stored.expires_at - stored.created_at <= timedelta(hours=72)
    accounts.complete_link(session, CONFIG, token, GOOD)
    with pytest.raises(InvalidLink):
        accounts.complete_link(session, CONFIG, token, GOOD + " igen")
    reset = accounts.issue_link(session, CONFIG, SYSTEM, user, "reset").rsplit("/", 1)[1]
    later = utcnow() + timedelta(hours=1, seconds=1)
    with pytest.raises(InvalidLink):
        accounts.complete_link(session, CONFIG, reset, GOOD + " igen", now=later)


def test_a_new_link_retires_the_old_one(session: Session) -> None:
    user = make_user(session, make_tenant(session))
    first = _setup_token(session, user)
    _setup_token(session, user)
    with pytest.raises(InvalidLink):
        accounts.complete_link(session, CONFIG, first, GOOD)


def test_admin_reset_issues_a_link_and_never_a_password(session: Session) -> None:
    tenant = make_tenant(session)
    admin, _, _ = make_account(session, tenant, role="company_admin")
    user, password, _ = make_account(session, tenant)
    before = user.password_hash
    actor = Actor(admin.id, admin.email, admin.role, admin.tenant_id)
    result = accounts_admin.force_reset_user(session, CONFIG, actor, user)
    assert result.link.startswith(CONFIG.public_url + "/account/password/")
    assert user.password_hash == before  # nothing rehashed, nothing chosen
    assert user.must_change_password
    with pytest.raises(login.PasswordResetRequired):
        login.check_password(session, CONFIG, user.email, password)  # old password is dead
    message = session.scalars(
        select(OutboxMessage).where(OutboxMessage.user_id == user.id).order_by(OutboxMessage.id)
    ).all()[-1]
    assert result.link in message.body and message.to_address == user.email
    accounts.complete_link(session, CONFIG, result.link.rsplit("/", 1)[1], GOOD)
    assert login.check_password(session, CONFIG, user.email, GOOD).next_step == "done"


def test_forced_reset_of_a_tenant_and_of_all_tenants(session: Session) -> None:
    a, b = make_tenant(session), make_tenant(session)
    operator, _, _ = make_account(session, None, role="operator")
    users = [make_account(session, t)[0] for t in (a, a, b)]
    tokens_before = {u.id: u.session_token for u in users}
    hashes_before = {u.id: u.password_hash for u in users}
    links = accounts_admin.force_reset_tenant(session, CONFIG, SYSTEM, a)
    assert sorted(r.email for r in links) == sorted(u.email for u in users[:2])
    session.expire_all()
    assert [u.must_change_password for u in users] == [True, True, False]
    assert users[2].session_token == tokens_before[users[2].id]
    assert all(users[i].session_token != tokens_before[users[i].id] for i in (0, 1))
    everyone = accounts_admin.force_reset_all(session, CONFIG, SYSTEM)
    assert {r.email for r in everyone} == {u.email for u in users}  # customers, not operators
    assert not session.get(User, operator.id).must_change_password
    assert len({u.session_token for u in session.scalars(select(User))}) == 4
    assert {u.id: u.password_hash for u in users} == hashes_before  # nothing rehashed
    assert verify_chain(session) == []
    resets = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "password.forced_reset")
    ).all()
    assert sorted((e.tenant_id, e.new["accounts"]) for e in resets) == sorted(
        [(a.id, 2), (a.id, 2), (b.id, 1)]
    )


def test_only_the_operator_resets_every_company(session: Session) -> None:
    tenant = make_tenant(session)
    admin, _, _ = make_account(session, tenant, role="company_admin")
    actor = Actor(admin.id, admin.email, admin.role, admin.tenant_id)
    with pytest.raises(accounts_admin.PermissionDenied):
        accounts_admin.force_reset_all(session, CONFIG, actor)
    with pytest.raises(accounts_admin.NotFound):
        accounts_admin.force_reset_tenant(session, CONFIG, actor, make_tenant(session))
