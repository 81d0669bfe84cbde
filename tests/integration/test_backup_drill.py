"""Restore drills on the demo companies: restore into scratch, test calls through every
number and IVR option, a certificate, and the last drill per company for the operator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from admin_web.cli import cli
from fixtures.demo import load_demo
from pbx.services.backups.drill import drill_backup
from pbx.services.backups.drill_results import (
    certificate_text,
    last_drill_per_company,
    record_drill,
)
from pbx.services.backups.manage import create_backup
from pbx.services.common.actor import cli_actor
from storage.backups.manifest import iter_entries
from storage.backups.store import BackupSet
from tests.integration.backup_world import World, flip_byte, live_contents, make_world


@pytest.fixture
def demo(db_url: str, tmp_path: Path):
    world = make_world(db_url, tmp_path / "data", companies=0)
    load_demo(world.runtime, calls_per_day=0)
    yield world
    world.close()


def _backup(world: World) -> BackupSet:
    store = world.store()
    return store.get(create_backup(world.live(), store).backup_id)


def _drill(world: World, backup: BackupSet):
    return drill_backup(backup, pg_server_url=world.settings.database_url)


def test_drill_restores_and_calls_every_number_and_option(demo: World) -> None:
    backup = _backup(demo)
    before = live_contents(demo)
    certificate = _drill(demo, backup)
    assert certificate.restorable and certificate.calls_checked, certificate.as_dict()
    assert certificate.blobs_restored == backup.manifest.counts.blobs
    totals = certificate.totals()
    assert len(certificate.companies) == 3 and totals["numbers"] == 7
    assert totals["ivr_options"] == 27  # 9 keys a company (key 3: the reception by hours)
    assert totals["test_calls"] == totals["test_calls_ok"] >= totals["ivr_options"]
    assert totals["media_checked"] == backup.manifest.counts.references
    text = certificate_text(certificate)
    assert "Verdict:     RESTORABLE" in text and backup.backup_id in text
    assert live_contents(demo) == before  # a drill never touches the live store


def test_last_drill_per_company_shows_the_newest_result(demo: World) -> None:
    backup = _backup(demo)
    good = _drill(demo, backup)
    with demo.session() as (session, _):
        record_drill(session, cli_actor(), good)
    flip_byte(backup.blobs.path_for(next(iter_entries(backup.entries_path)).sha256))
    bad = _drill(demo, backup)
    assert not bad.restorable and "does not restore" in bad.problems[0]
    with demo.session() as (session, _):
        record_drill(session, cli_actor(), bad)
    with demo.session() as (session, _):
        last = last_drill_per_company(session)
    assert [d.tenant_slug for d in last] == ["bergstrom-bygg", "fjallvind", "kafe-lonnen"]
    assert {d.restorable for d in last} == {False}
    assert all(d.backup_id == backup.backup_id and d.problems for d in last)


def test_cli_drill_prints_and_keeps_a_certificate(demo: World) -> None:
    backup = _backup(demo)
    env = {
        "PBX_DATA_DIR": str(demo.settings.data_dir),
        "PBX_DATABASE_URL": demo.settings.database_url,
    }
    result = CliRunner().invoke(cli, ["backup", "drill", "latest", "--json"], env=env)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["restorable"] and payload["backup_id"] == backup.backup_id
    kept = list((demo.settings.backup_dir / "drills" / backup.backup_id).iterdir())
    assert sorted(p.suffix for p in kept) == [".json", ".txt"]
    with demo.session() as (session, _):
        assert len(last_drill_per_company(session)) == 3
