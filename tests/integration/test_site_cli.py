"""`pbx calllog purge` on both databases: retention per company, dry run, audit, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from admin_web.cli import cli
from pbx.services.calllog.entries import write_entries
from pbx.services.common.actor import SYSTEM
from pbx.services.tenants import settings as tenant_settings
from storage.db import make_engine, make_session_factory, session_scope
from storage.models import AuditEvent, CallLogEntry
from tests.builders import make_tenant

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


@pytest.fixture
def run(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PBX_DATABASE_URL", db_url)
    monkeypatch.setenv("PBX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PBX_SECRET_KEY", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def factory(db_url: str):
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def seed(factory) -> None:
    with session_scope(factory) as s:
        short = make_tenant(s, slug="kort")
        long = make_tenant(s, slug="lang")
        tenant_settings.set_retention(s, SYSTEM, short, 30)
        tenant_settings.set_retention(s, SYSTEM, long, 365)
        rows = []
        for tenant in (short, long):
            for days in (10, 40, 400):
                at = NOW - timedelta(days=days)
                rows.append(
                    {
                        "call_id": f"{tenant.slug}-{days}",
                        "tenant_id": tenant.id,
                        "caller": "+46701234567",
                        "callee": "+46852001000",
                        "direction": "inbound",
                        "started_at": at,
                        "ended_at": at,
                        "disposition": "answered",
                        "leg": 0,
                    }
                )
        write_entries(s, rows)


def remaining(factory) -> int:
    with session_scope(factory) as s:
        return s.scalar(select(func.count()).select_from(CallLogEntry)) or 0


def test_purge_honours_each_companys_retention(run, factory) -> None:
    seed(factory)
    dry = run("calllog", "purge", "--dry-run", "--now", NOW.isoformat(), "--json")
    assert dry.exit_code == 0, dry.output
    counts = {t["tenant"]: t["deleted"] for t in json.loads(dry.output)["tenants"]}
    assert counts == {"kort": 2, "lang": 1} and remaining(factory) == 6
    result = run("calllog", "purge", "--now", NOW.isoformat())
    assert result.exit_code == 0 and "total: deleted 3 entries" in result.output
    assert remaining(factory) == 3
    with session_scope(factory) as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "calllog.purge")))
        assert sorted(e.new["deleted"] for e in events) == [1, 2]
        assert all(e.actor_label == "pbx calllog purge" for e in events)


def test_purge_one_company_and_bad_input(run, factory) -> None:
    seed(factory)
    result = run("calllog", "purge", "--tenant", "kort", "--now", NOW.isoformat())
    assert result.exit_code == 0 and remaining(factory) == 4
    unknown = run("calllog", "purge", "--tenant", "nope")
    assert unknown.exit_code != 0 and "nope" in unknown.output
    bad = run("calllog", "purge", "--now", "igår")
    assert bad.exit_code != 0 and "ISO" in bad.output
