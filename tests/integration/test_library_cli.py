"""`pbx messages regenerate-missing` on both databases (click's CliRunner): one company or
all, messages without script text listed, one clear line for bad arguments."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session, sessionmaker

from admin_web.cli import cli
from pbx.services.library import messages as library
from storage.blobs import FileBlobStore
from storage.db import make_engine, make_session_factory, session_scope
from tests.builders import make_tenant
from tests.integration.test_library_services import admin_of
from tests.library_media import speech_wav

Run = Callable[..., Result]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def lost(factory: sessionmaker[Session], data_dir: Path) -> dict[str, list[int]]:
    """Two companies whose audio is gone: two scripted messages and one without script."""
    blobs = FileBlobStore(data_dir / "blobs")
    made: dict[str, list[int]] = {}
    with session_scope(factory) as s:
        for slug, scripts in (("ljudet", ["Välkommen.", ""]), ("tonen", ["Tryck ett."])):
            tenant = make_tenant(s, slug=slug)
            admin = admin_of(s, tenant)
            made[slug] = []
            for n, script in enumerate(scripts):
                slot = library.create_message(
                    s, admin, tenant, kind="ivr", name=f"Meddelande {n}", script_text=script
                )
                version = library.save_audio(s, blobs, admin, slot, speech_wav(seed=n))
                blobs.path_for(version.blob_sha256).unlink()
                made[slug].append(slot.id)
    return made


@pytest.fixture
def run(db_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("PBX_DATABASE_URL", db_url)
    monkeypatch.setenv("PBX_DATA_DIR", str(data_dir))
    monkeypatch.delenv("PBX_SECRET_KEY", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


def test_one_company_is_regenerated_and_the_unscripted_message_is_listed(
    run: Run, lost: dict[str, list[int]]
) -> None:
    result = run("messages", "regenerate-missing", "--tenant", "ljudet")

    assert result.exit_code == 0, result.output
    assert "Regenerated 1 message(s)" in result.output
    assert f"ljudet: Meddelande 1 (slot {lost['ljudet'][1]}, ivr)" in result.output
    again = json.loads(run("messages", "regenerate-missing", "--tenant", "ljudet", "--json").output)
    assert again["regenerated"] == [] and [r["slot_id"] for r in again["needs_recording"]] == [
        lost["ljudet"][1]
    ]


def test_all_companies_at_once(run: Run, lost: dict[str, list[int]]) -> None:
    result = json.loads(run("messages", "regenerate-missing", "--all", "--json").output)

    done = sorted(r["slot_id"] for r in result["regenerated"])
    assert done == sorted([lost["ljudet"][0], lost["tonen"][0]])
    assert result["failed"] == [] and result["remaining"] == 0


def test_bad_arguments_are_one_line(run: Run, lost: dict[str, list[int]]) -> None:
    neither = run("messages", "regenerate-missing")
    assert neither.exit_code == 2 and "--tenant T or --all" in neither.output
    unknown = run("messages", "regenerate-missing", "--tenant", "finns-inte")
    assert unknown.exit_code == 1 and "finns-inte" in unknown.output
    assert len(unknown.output.strip().splitlines()) == 1
