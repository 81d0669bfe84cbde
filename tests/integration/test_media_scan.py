"""The media scan finds exactly the missing and corrupt blobs, per company, with where
each is used; on both databases and both media stores."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from admin_web.cli import cli
from pbx.services.library.scan import scan_media, slot_statuses
from storage.backups.references import iter_references
from tests.integration.backup_world import World, corrupt_live_blob, delete_blobs, make_world


@pytest.fixture(params=["files", "database"])
def world(request: pytest.FixtureRequest, db_url: str, tmp_path: Path):
    made = make_world(db_url, tmp_path / "data", media_store=request.param)
    yield made
    made.close()


def _refs(world: World, owner: str, role: str = "master", current: bool = True) -> list:
    with world.session() as (session, _):
        return [
            r
            for r in iter_references(session)
            if r.owner == owner and r.role == role and r.current == current
        ]


def test_clean_store_scans_clean(world: World) -> None:
    with world.session() as (session, blobs):
        report = scan_media(session, blobs)
    assert report.ok
    # per company: 2 welcome versions + 1 original, 2 IVR prompts, greeting, voicemail,
    # picture + original
    assert [c.references for c in report.companies if c.tenant_id] == [10, 10]
    assert report.blobs_checked == report.references == 20


def test_scan_reports_exactly_the_deleted_blobs_with_their_placements(world: World) -> None:
    welcome = next(r for r in _refs(world, "slot_version") if r.slot_name == "Välkommen")
    message = _refs(world, "voicemail_message")[0]
    picture = _refs(world, "profile_picture")[0]
    delete_blobs(world, [welcome.sha256, message.sha256, picture.sha256])
    with world.session() as (session, blobs):
        report = scan_media(session, blobs)
    assert not report.ok
    assert {p.sha256 for p in report.problems} == {welcome.sha256, message.sha256, picture.sha256}
    assert {p.status for p in report.problems} == {"missing"}
    found = {p.owner: p for p in report.problems}
    assert found["slot_version"].slot_name == "Välkommen"
    (placement,) = found["slot_version"].placements
    assert placement.startswith("number +468600")
    assert "voicemail message" in found["voicemail_message"].where
    assert "profile picture" in found["profile_picture"].where
    by_company = {c.tenant_id: len(c.problems) for c in report.companies}
    assert by_company[welcome.tenant_id] >= 1


def test_greeting_problem_names_the_mailbox(world: World) -> None:
    greeting = next(r for r in _refs(world, "slot_version") if r.slot_kind == "greeting")
    delete_blobs(world, [greeting.sha256])
    with world.session() as (session, blobs):
        (problem,) = scan_media(session, blobs).problems
    assert problem.placements[0].startswith("mailbox of ")


def test_corrupt_blob_is_reported_as_corrupt(world: World) -> None:
    prompt = next(r for r in _refs(world, "slot_version") if r.slot_name == "Huvudmeny")
    corrupt_live_blob(world, prompt.sha256)
    with world.session() as (session, blobs):
        report = scan_media(session, blobs)
        statuses = slot_statuses(session, blobs, prompt.tenant_id)
    (problem,) = report.problems
    assert (problem.status, problem.sha256) == ("corrupt", prompt.sha256)
    assert "ivr_prompt Huvudmeny" in problem.placements
    assert statuses[prompt.slot_id] == "corrupt"


def test_scan_of_one_company_ignores_the_others(world: World) -> None:
    first, second = world.tenants.values()
    victim = next(r for r in _refs(world, "voicemail_message") if r.tenant_id == second)
    delete_blobs(world, [victim.sha256])
    with world.session() as (session, blobs):
        assert scan_media(session, blobs, tenant_id=first).ok
        assert not scan_media(session, blobs, tenant_id=second).ok


def test_older_versions_are_checked_too(world: World) -> None:
    older = _refs(world, "slot_version", current=False)[0]
    delete_blobs(world, [older.sha256])
    with world.session() as (session, blobs):
        (problem,) = scan_media(session, blobs).problems
    assert not problem.current and "older version" in problem.where


def test_cli_scan_exits_non_zero_and_prints_json(world: World) -> None:
    env = {
        "PBX_DATA_DIR": str(world.settings.data_dir),
        "PBX_DATABASE_URL": world.settings.database_url,
        "PBX_MEDIA_STORE": world.settings.media_store,
    }
    runner = CliRunner()
    ok = runner.invoke(cli, ["media", "scan"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "clean" in ok.output
    victim = _refs(world, "profile_picture")[0]
    delete_blobs(world, [victim.sha256])
    bad = runner.invoke(cli, ["media", "scan", "--json"], env=env)
    assert bad.exit_code == 1
    payload = json.loads(bad.output)
    assert payload["missing"] == 1 and not payload["ok"]
    text = runner.invoke(cli, ["media", "scan"], env=env)
    assert text.exit_code == 1 and "MISSING" in text.output and victim.sha256[:12] in text.output
    unknown = runner.invoke(cli, ["media", "scan", "--tenant", "nope"], env=env)
    assert unknown.exit_code != 0 and unknown.output.count("\n") == 1


def test_the_scan_removes_and_counts_leftover_temp_files_of_killed_writers(
    world: World,
) -> None:
    """A killed `pbx backup restore --missing-only` or upload leaves `tmp/*.part` behind;
    the scan removes those older than any running writer (and only those). The database
    store writes no temp files: its scan reports none."""
    env = {
        "PBX_DATA_DIR": str(world.settings.data_dir),
        "PBX_DATABASE_URL": world.settings.database_url,
        "PBX_MEDIA_STORE": world.settings.media_store,
    }
    if world.settings.media_store != "files":
        result = CliRunner().invoke(cli, ["media", "scan", "--json"], env=env)
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["temp_files_removed"] == 0
        return
    tmp = world.settings.blob_dir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    left = tmp / "0123456789abcdef0123456789abcdef.part"
    left.write_bytes(b"x" * 71828)
    two_hours_ago = time.time() - 7200
    os.utime(left, (two_hours_ago, two_hours_ago))
    writing = tmp / "fedcba9876543210fedcba9876543210.part"  # a writer at work right now
    writing.write_bytes(b"y")
    result = CliRunner().invoke(cli, ["media", "scan", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["temp_files_removed"] == 1
    assert not left.exists() and writing.exists()
    again = CliRunner().invoke(cli, ["media", "scan"], env=env)
    assert "leftover" not in again.output
