"""Generated traffic on both databases: calls through the engine into the call log, realistic
in shape (business hours, repeat callers, IVR, busy/no-answer, forwarding, voicemail), the
same rows for the same seed (also from worker processes), and `pbx traffic generate`."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from admin_web.cli import cli
from pbx.services.calls import traffic
from storage.blobs import FileBlobStore
from storage.db import make_engine, make_session_factory, session_scope
from storage.models import CallLogEntry, Tenant
from storage.models.calllog import DIRECTIONS, DISPOSITIONS
from tests.integration.switchboard_world import demo_company

BETWEEN = (date(2026, 6, 1), date(2026, 6, 30))
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def tenant(session: Session, file_blobs: FileBlobStore) -> Tenant:
    return demo_company(session, file_blobs)


def generate(session: Session, tenant: Tenant, calls: int, workers: int = 1, seed: int = 3) -> int:
    plan = traffic.plan_traffic(session, None, [tenant.id], calls, BETWEEN, seed)
    utc = traffic.utc_suffix(session)
    chunks = traffic.chunks_of(plan, 150)
    return sum(
        traffic.insert_rows(session, rows)
        for _, rows in traffic.generated(plan, chunks, utc, workers)
    )


def entries(session: Session) -> list[CallLogEntry]:
    return list(session.scalars(select(CallLogEntry).order_by(CallLogEntry.id)))


def test_traffic_looks_like_a_real_company(session: Session, tenant: Tenant) -> None:
    written = generate(session, tenant, 600)
    rows = entries(session)
    assert written == len(rows) > 600
    calls = {r.call_id for r in rows}
    assert len(calls) == 600 and all(r.tenant_id == tenant.id for r in rows)
    assert {r.direction for r in rows} <= set(DIRECTIONS)
    assert {r.disposition for r in rows} <= set(DISPOSITIONS)
    assert {"inbound", "internal", "forwarded", "outbound"} <= {r.direction for r in rows}
    assert {"answered", "busy", "no_answer", "voicemail"} <= {r.disposition for r in rows}
    first_legs = [r for r in rows if r.leg == 1]
    local = [r.started_at.astimezone(STOCKHOLM) for r in first_legs]
    assert all(BETWEEN[0] <= moment.date() <= BETWEEN[1] for moment in local)
    open_hours = sum(8 <= moment.hour < 17 for moment in local)
    assert open_hours / len(local) > 0.85
    assert sum(moment.weekday() < 5 for moment in local) / len(local) > 0.9
    repeat = Counter(r.caller for r in first_legs if r.direction == "inbound").most_common(1)
    assert repeat[0][1] >= 5  # a regular caller
    assert all(r.ended_at >= r.started_at for r in rows)


def test_the_same_seed_gives_the_same_calls(session: Session, tenant: Tenant) -> None:
    generate(session, tenant, 200, seed=9)
    once = [_shape(r) for r in entries(session)]
    session.query(CallLogEntry).delete()
    generate(session, tenant, 200, seed=9)
    assert [_shape(r) for r in entries(session)] == once


def test_worker_processes_write_the_same_rows(session: Session, tenant: Tenant) -> None:
    generate(session, tenant, 400, seed=5)
    serial = sorted(_shape(r) for r in entries(session))
    session.query(CallLogEntry).delete()
    generate(session, tenant, 400, seed=5, workers=2)
    assert sorted(_shape(r) for r in entries(session)) == serial


def _shape(row: CallLogEntry) -> tuple[object, ...]:
    return (
        row.call_id, row.leg, row.user_id, row.caller, row.callee, row.direction,
        row.started_at, row.answered_at, row.ended_at, row.disposition, row.forwarded_to,
    )  # fmt: skip


def test_timestamps_read_back_as_utc(session: Session, tenant: Tenant) -> None:
    generate(session, tenant, 50)
    row = entries(session)[0]
    assert row.started_at.tzinfo is not None and row.started_at.utcoffset().total_seconds() == 0
    assert datetime(2026, 5, 31, tzinfo=UTC) < row.started_at < datetime(2026, 7, 1, tzinfo=UTC)


@pytest.fixture
def factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_pbx_traffic_generate(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, factory: sessionmaker[Session]
) -> None:
    with session_scope(factory) as s:
        demo_company(s, FileBlobStore(tmp_path / "data" / "blobs"))
    monkeypatch.setenv("PBX_DATABASE_URL", db_url)
    monkeypatch.setenv("PBX_DATA_DIR", str(tmp_path / "data"))
    run = CliRunner().invoke
    args = ["traffic", "generate", "--tenants", "1", "--calls", "300", "--between"]
    result = run(cli, [*args, "2026-06-01", "2026-06-30", "--chunk", "100", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    with session_scope(factory) as s:
        count = s.scalar(select(func.count()).select_from(CallLogEntry))
        calls = s.scalar(select(func.count(func.distinct(CallLogEntry.call_id))))
    assert report["calls"] == calls == 300 and report["call_log_rows"] == count
    too_many = run(cli, [*args, "2026-06-01", "2026-06-30", "--tenants", "2"])
    assert too_many.exit_code != 0
    assert "asked for 2 companies with numbers; there are 1" in too_many.output
    backwards = run(cli, [*args, "2026-06-30", "2026-06-01"])
    assert backwards.exit_code != 0 and "first date must not be after the last" in backwards.output
    bad_date = run(cli, [*args, "2026-06-31", "2026-07-01"])
    assert bad_date.exit_code != 0 and "2026-06-31" in bad_date.output
