"""`pbx voicemail`, `pbx numbers add|remove|leads`, `pbx calllog stats`, `pbx users import`
on both databases: the same services as the site, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from admin_web.cli import cli
from pbx.services.common.actor import SYSTEM
from pbx.services.routing import ivr
from storage.db import make_engine, make_session_factory, session_scope
from storage.models import PhoneNumber, User
from tests.builders import make_tenant, make_user


@pytest.fixture
def run(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PBX_DATABASE_URL", db_url)
    monkeypatch.setenv("PBX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PBX_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("PBX_PASSWORD_HASH_PROFILE", "test-only-fast")
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args))


@pytest.fixture
def factory(db_url: str):
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_cli_end_to_end(run, factory, tmp_path: Path) -> None:
    with session_scope(factory) as s:
        tenant = make_tenant(s, slug="cli-17")
        tenant_id = tenant.id
        anna = make_user(s, tenant, email="anna@cli17.example")
        menu = ivr.create_menu(s, SYSTEM, tenant, name="Meny", prompt_slot_id=None)
        menu_id, anna_email = menu.id, anna.email
    done = run("voicemail", "settings", anna_email, "--greeting-only", "--email-notify", "link")
    assert done.exit_code == 0 and "greeting_only=True" in done.output
    assert run("voicemail", "pin-reset", anna_email).exit_code == 0
    assert run("voicemail", "settings", "nobody@x.example").exit_code == 1
    added = run("numbers", "add", "--tenant", "cli-17", "--number", "+46 8 555 001 00",
                "--to", "ivr", "--id", str(menu_id))  # fmt: skip
    assert added.exit_code == 0 and "+46855500100" in added.output
    assert "ivr Meny" in run("numbers", "leads", "+46855500100").output
    refused = run("numbers", "remove", "+46855500100")
    assert refused.exit_code == 1 and "only way into" in refused.output
    bad = run("numbers", "add", "--tenant", "cli-17", "--number", "123", "--to", "ivr",
              "--id", str(menu_id))  # fmt: skip
    assert bad.exit_code == 1
    report = run("calllog", "stats", "--tenant", "cli-17", "--from", "2025-01-01",
                 "--to", "2025-01-31")  # fmt: skip
    assert report.exit_code == 0 and report.output.startswith("section,name,calls")
    path = tmp_path / "users.csv"
    path.write_text("namn;e-post;anknytning\nKarin;karin@cli17.example;601\n;x;\n")
    preview = run("users", "import", "--tenant", "cli-17", str(path), "--yes")
    assert preview.exit_code == 1 and "line 3" in preview.output
    path.write_text("namn;e-post;anknytning\nKarin;karin@cli17.example;601\n")
    assert "--yes" in run("users", "import", "--tenant", "cli-17", str(path)).output
    imported = run("users", "import", "--tenant", "cli-17", str(path), "--yes")
    assert imported.exit_code == 0 and "karin@cli17.example\thttp" in imported.output
    with session_scope(factory) as s:
        assert (
            s.scalar(select(func.count()).select_from(User).where(User.tenant_id == tenant_id)) == 2
        )
        assert s.scalar(select(PhoneNumber.id).where(PhoneNumber.e164 == "+46855500100"))
