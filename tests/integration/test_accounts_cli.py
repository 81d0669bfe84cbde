"""`pbx users create|suspend|unsuspend|unlock|reset-password|reset-passwords` and
`pbx audit verify` on both databases (SECURITY.md 4, 5, 23)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from admin_web.cli import cli
from pbx.services.accounts import core as accounts
from storage.models import AuditEvent, OutboxMessage, User
from tests.builders import make_tenant
from tests.web.accounts import accounts_config, strong_password


@pytest.fixture
def run(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PBX_DATABASE_URL", db_url)
    monkeypatch.setenv("PBX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PBX_PUBLIC_URL", "https://vaxel.example")
    monkeypatch.delenv("PBX_SECRET_KEY", raising=False)  # links need no key
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def tenant_slug(session_factory: sessionmaker[Session]) -> str:
    with session_factory() as s, s.begin():
        return make_tenant(s, slug="kvarnen").slug


def _token(link: str) -> str:
    return link.rsplit("/", 1)[1]


def test_create_prints_a_setup_link_that_sets_the_password(
    run, tenant_slug: str, session_factory: sessionmaker[Session]
) -> None:
    result = run(
        "users",
        "create",
        "--tenant",
        tenant_slug,
        "--name",
        "Anna Ek",
        "--email",
        "anna@kvarnen.se",
        "--role",
        "company_admin",
        "--extension",
        "201",
    )
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1]
    assert link.startswith("https://vaxel.example/account/password/")
    with session_factory() as s, s.begin():
        user = s.scalar(select(User).where(User.email == "anna@kvarnen.se"))
        assert user.password_hash is None and user.role == "company_admin"
        outbox = s.scalar(select(OutboxMessage).where(OutboxMessage.user_id == user.id))
        assert link in outbox.body
        accounts.complete_link(s, accounts_config(), _token(link), strong_password())


def test_create_applies_the_mobile_number_rules(
    run, tenant_slug: str, session_factory: sessionmaker[Session]
) -> None:
    """`--mobile` is the user's own phone (333 knows them by it): the site's rules apply."""
    base = ("users", "create", "--tenant", tenant_slug, "--name", "Bo Ek")
    for n, number in enumerate(("+46900123456", "+46771234567", "+881612345678", "+4791234567")):
        result = run(*base, "--email", f"bo{n}@kvarnen.se", "--mobile", number)
        assert result.exit_code != 0 and "Traceback" not in result.output, number
    abroad = ("--mobile", "+4791234567", "--mobile-reason", "lives in Oslo")
    assert run(*base, "--email", "bo@kvarnen.se", *abroad).exit_code == 0
    with session_factory() as s, s.begin():
        mobiles = s.scalars(select(User.mobile).where(User.email.like("bo%@kvarnen.se"))).all()
        assert mobiles == ["+4791234567"]


def test_suspend_unsuspend_unlock(run, tenant_slug: str, session_factory) -> None:
    run("users", "create", "--tenant", tenant_slug, "--name", "Bo Ek", "--email", "bo@kvarnen.se")
    assert run("users", "suspend", "bo@kvarnen.se").exit_code == 0
    with session_factory() as s, s.begin():
        user = s.scalar(select(User).where(User.email == "bo@kvarnen.se"))
        assert user.status == "suspended"
        user.failed_logins = 100
    assert run("users", "unsuspend", "bo@kvarnen.se").exit_code == 0
    with session_factory() as s, s.begin():
        s.execute(update(User).values(failed_logins=100))
    assert run("users", "unlock", "bo@kvarnen.se").exit_code == 0
    with session_factory() as s:
        user = s.scalar(select(User).where(User.email == "bo@kvarnen.se"))
        assert (user.status, user.failed_logins) == ("active", 0)
    missing = run("users", "suspend", "nobody@kvarnen.se")
    assert missing.exit_code == 1 and "no account" in missing.output


def test_reset_password_and_reset_passwords(run, tenant_slug: str, session_factory) -> None:
    for n in range(3):
        run(
            "users",
            "create",
            "--tenant",
            tenant_slug,
            "--name",
            f"P {n}",
            "--email",
            f"p{n}@kvarnen.se",
        )
    one = json.loads(run("users", "reset-password", "p0@kvarnen.se", "--json").output)
    assert one[0]["email"] == "p0@kvarnen.se" and "/account/password/" in one[0]["link"]
    assert run("users", "reset-passwords").exit_code == 2  # --tenant or --all
    tenant = run("users", "reset-passwords", "--tenant", tenant_slug, "--yes")
    lines = [line.split("\t") for line in tenant.output.splitlines() if "\t" in line]
    assert "3 account(s) reset" in tenant.output
    assert sorted(email for email, _ in lines) == [
        "p0@kvarnen.se",
        "p1@kvarnen.se",
        "p2@kvarnen.se",
    ]
    everyone = json.loads(run("users", "reset-passwords", "--all", "--yes", "--json").output)
    assert len(everyone) == 3
    with session_factory() as s:
        assert all(u.must_change_password for u in s.scalars(select(User)))


def test_reset_all_asks_first(run, tenant_slug: str) -> None:
    result = CliRunner().invoke(cli, ["users", "reset-passwords", "--all"], input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output


def test_audit_verify_detects_a_changed_and_a_removed_entry(
    run, tenant_slug: str, session_factory: sessionmaker[Session]
) -> None:
    for n in range(3):
        run(
            "users",
            "create",
            "--tenant",
            tenant_slug,
            "--name",
            f"Q {n}",
            "--email",
            f"q{n}@kvarnen.se",
        )
    ok = run("audit", "verify")
    assert ok.exit_code == 0 and "intact" in ok.output
    with session_factory() as s, s.begin():
        ids = list(s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))
        s.execute(
            update(AuditEvent).where(AuditEvent.id == ids[1]).values(actor_label="someone else")
        )
    changed = run("audit", "verify")
    assert changed.exit_code == 1 and f"entry {ids[1]}: entry changed" in changed.output
    with session_factory() as s, s.begin():
        s.execute(
            update(AuditEvent)
            .where(AuditEvent.id == ids[1])
            .values(actor_label="cli:" + _os_user())
        )
    with session_factory() as s, s.begin():
        s.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[2]})
    removed = run("audit", "verify")
    assert (
        removed.exit_code == 1
        and f"entry {ids[3]}: previous entry changed or removed" in removed.output
    )


def _os_user() -> str:
    return getpass.getuser()
