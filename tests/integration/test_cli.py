"""The `pbx` command line on both databases: migrations, demo data, listings, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from admin_web.cli import cli


@pytest.fixture
def run(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Invoke `pbx` as a user would, configured only through PBX_* variables."""
    monkeypatch.setenv("PBX_DATABASE_URL", db_url)
    monkeypatch.setenv("PBX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PBX_SECRET_KEY", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_every_command_has_help(run) -> None:
    result = run("--help")
    assert result.exit_code == 0
    for name in ("db", "fixtures", "serve", "demo", "tenants", "numbers", "users"):
        assert name in result.output
    for args in (
        ("db", "upgrade"),
        ("fixtures", "load"),
        ("serve",),
        ("demo",),
        ("tenants", "list"),
        ("numbers", "list"),
        ("users", "list"),
    ):
        assert run(*args, "--help").exit_code == 0, args


def test_demo_fixtures_load_idempotently_and_list(run) -> None:
    assert run("db", "upgrade").exit_code == 0
    first = run("fixtures", "load", "demo", "--calls-per-day", "2", "--json")
    assert first.exit_code == 0, first.output
    created = json.loads(first.output)["created"]
    assert len(created) >= 3
    again = json.loads(run("fixtures", "load", "demo", "--json").output)
    assert again["created"] == [] and sorted(again["skipped"]) == sorted(created)

    tenants = json.loads(run("tenants", "list", "--json").output)
    assert {t["slug"] for t in tenants} == set(created)
    numbers = json.loads(run("numbers", "list", "--tenant", created[0], "--json").output)
    assert 2 <= len(numbers) <= 3 and all(n["e164"].startswith("+46") for n in numbers)
    users = json.loads(run("users", "list", "--tenant", created[0], "--json").output)
    assert 5 <= len(users) <= 20
    assert sum(u["role"] == "company_admin" for u in users) == 1
    assert "EMAIL" in run("users", "list").output  # the human-readable table


def test_user_mistakes_are_one_line_errors(run) -> None:
    run("db", "upgrade")
    result = run("numbers", "list", "--tenant", "no-such-company")
    assert result.exit_code != 0
    assert "no company with the short name" in result.output
    assert "Traceback" not in result.output


def test_unmigrated_database_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PBX_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    result = CliRunner().invoke(cli, ["tenants", "list"])
    assert result.exit_code != 0 and "pbx db upgrade" in result.output


def test_serve_refuses_to_start_without_secret_key(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PBX_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PBX_SECRET_KEY", raising=False)
    monkeypatch.delenv("PBX_MODE", raising=False)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code != 0 and "PBX_SECRET_KEY" in result.output
