"""`pbx call` and `pbx callback` on a demo company, on both databases (click's CliRunner):
the readable and the JSON trace, what is written, and one clear line for bad input."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from admin_web.cli import cli
from pbx.security.hashing import TEST_ONLY_FAST_PROFILE
from pbx.services.common.actor import SYSTEM
from pbx.services.library import slots as slot_service
from pbx.services.people import voicemail_pin
from storage.blobs import FileBlobStore
from storage.db import make_engine, make_session_factory, session_scope
from storage.models import CallLogEntry, MessageSlot, User
from tests.integration.switchboard_world import (
    ANNA_MOBILE,
    CALLER,
    ERIK_DIRECT,
    MAIN,
    demo_company,
)
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
def company(factory: sessionmaker[Session], data_dir: Path) -> int:
    with session_scope(factory) as s:
        return demo_company(s, FileBlobStore(data_dir / "blobs")).id


@pytest.fixture
def run(db_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch, company: int) -> Run:
    monkeypatch.setenv("PBX_DATABASE_URL", db_url)
    monkeypatch.setenv("PBX_DATA_DIR", str(data_dir))
    monkeypatch.delenv("PBX_SECRET_KEY", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def say(tmp_path: Path) -> Path:
    path = tmp_path / "say.wav"
    path.write_bytes(speech_wav(2.5))
    return path


def test_pbx_call_prints_what_the_caller_hears_and_writes_the_call_log(
    run: Run, factory: sessionmaker[Session]
) -> None:
    result = run("call", "--from", CALLER, "--to", MAIN, "--dtmf", "1", "--busy", "102")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Call ") and "Bergström Bygg AB" in lines[0]
    assert "plays Välkomstmeddelande" in lines[1] and "caller presses 1" in result.output
    assert "ringing 102" in result.output and "busy" in result.output
    assert lines[-1].startswith("Ended: answered. Call-log entries written: ")
    ids = [int(i) for i in lines[-1].rsplit(": ", 1)[1].split(", ")]
    with session_scope(factory) as s:
        rows = s.scalars(select(CallLogEntry).where(CallLogEntry.id.in_(ids))).all()
        assert sorted(r.leg for r in rows) == [1, 2, 3]


def test_pbx_call_json_has_the_agreed_shape(run: Run, say: Path) -> None:
    result = run(
        "call", "--from", CALLER, "--to", ERIK_DIRECT, "--no-answer", "102", "--no-answer",
        "103", "--say", str(say), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert set(payload) >= {"call_id", "steps", "disposition", "call_log_ids"}
    assert payload["disposition"] == "voicemail"
    kinds = [step["kind"] for step in payload["steps"]]
    assert kinds[:4] == ["ring", "no_answer", "forward", "ring"]
    assert {"voicemail", "record", "audio", "deposit"} <= set(kinds)
    greeting = next(s for s in payload["steps"] if s["kind"] == "prompt")
    assert set(greeting) >= {"slot_id", "slot_name", "audio"} and greeting["audio"] == "ok"
    assert len(payload["call_log_ids"]) == 4 and len(payload["voicemail_message_ids"]) == 1


def test_pbx_call_marks_missing_audio(
    run: Run, factory: sessionmaker[Session], data_dir: Path
) -> None:
    with session_scope(factory) as s:
        slot = s.scalar(select(MessageSlot).where(MessageSlot.name == "Huvudmeny"))
        assert slot is not None
        version = slot_service.current_version(s, slot)
        assert version is not None
        FileBlobStore(data_dir / "blobs").path_for(version.blob_sha256).unlink()
    result = run("call", "--from", CALLER, "--to", MAIN, "--dtmf", "0", "--json", "--dry-run")
    steps = json.loads(result.output)["steps"]
    assert {"kind": "prompt", "slot_name": "Huvudmeny", "audio": "missing"}.items() <= steps[
        1
    ].items()
    assert steps[2]["kind"] == "tone" and steps[2]["reason"] == "fallback"
    assert json.loads(result.output)["call_log_ids"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", CALLER, "--to", "+46899999999"), "is not a number of any company"),
        (("--from", CALLER, "--to", "+4685200x"), "is not a valid E.164 number"),
        (("--from", "0701112233", "--to", MAIN), "is not in E.164 format"),
        (("--from", CALLER, "--to", MAIN, "--dtmf", "1A"), "DTMF may only contain 0-9, * and #"),
        (("--from", CALLER, "--to", "999", "--tenant", "bergstrom-bygg"), "is not a number of"),
    ],
)
def test_bad_input_is_one_clear_line(run: Run, args: tuple[str, ...], message: str) -> None:
    result = run("call", *args)
    assert result.exit_code != 0
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: ") and message in line


def test_a_file_that_is_not_audio_is_refused(run: Run, tmp_path: Path) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("not audio, whatever the name says")
    result = run("call", "--from", CALLER, "--to", MAIN, "--dtmf", "22", "--say", str(text))
    assert result.exit_code != 0
    assert result.output.startswith("Error: --say: This is not a supported audio file")


def test_callback_start_and_answer_store_a_new_version(
    run: Run, factory: sessionmaker[Session], say: Path, data_dir: Path
) -> None:
    with session_scope(factory) as s:
        slot_id = s.scalar(select(MessageSlot.id).where(MessageSlot.name == "Kömeddelande"))
        before = s.get(MessageSlot, slot_id).current_version_id  # type: ignore[union-attr]
    started = run(
        "callback", "start", "--tenant", "bergstrom-bygg", "--user", "101", "--slot",
        str(slot_id), "--number", ANNA_MOBILE, "--json",
    )  # fmt: skip
    session_id = json.loads(started.output)["session"]
    answered = run("callback", "answer", session_id, "--say", str(say), "--json")
    payload = json.loads(answered.output)
    assert (payload["status"], payload["outcome"]) == ("ended", "recorded")
    assert [step["do"] for step in payload["steps"]][:3] == ["play", "tone", "record"]
    with session_scope(factory) as s:
        slot = s.get(MessageSlot, slot_id)
        assert slot is not None and slot.current_version_id not in (None, before)
        assert payload["version_id"] == slot.current_version_id
        assert slot_service.current_version(s, slot).source == "phone"  # type: ignore[union-attr]
        assert slot_service.audio_status(s, FileBlobStore(data_dir / "blobs"), slot) == "ok"
    again = run("callback", "answer", session_id)
    assert again.exit_code != 0 and "is not ringing" in again.output
    heard = run("call", "--from", CALLER, "--to", MAIN, "--dtmf", "1", "--dry-run", "--json")
    queue_message = [
        s for s in json.loads(heard.output)["steps"] if s.get("slot_id") == str(slot_id)
    ]
    assert [s["audio"] for s in queue_message] == ["ok"]  # callers now hear the new recording


def test_callback_refuses_a_number_that_is_not_the_users_own(
    run: Run, factory: sessionmaker[Session]
) -> None:
    with session_scope(factory) as s:
        other = s.scalar(select(User.mobile).where(User.extension == "102"))
    result = run(
        "callback", "start", "--tenant", "bergstrom-bygg", "--user", "101", "--slot", "1",
        "--number", str(other),
    )  # fmt: skip
    assert result.exit_code != 0 and "your own registered number" in result.output


def test_callback_busy_ends_with_a_clear_status(run: Run) -> None:
    started = run(
        "callback", "start", "--tenant", "bergstrom-bygg", "--user", "101", "--slot", "1",
        "--number", ANNA_MOBILE, "--json",
    )  # fmt: skip
    result = run("callback", "answer", json.loads(started.output)["session"], "--busy")
    assert "Outcome: busy" in result.output


def test_pbx_call_to_333_records_a_greeting_from_the_users_mobile(
    run: Run, factory: sessionmaker[Session], say: Path
) -> None:
    with session_scope(factory) as s:
        erik = s.scalars(select(User).where(User.extension == "102")).one()
        voicemail_pin.set_pin(s, SYSTEM, erik, "4711", TEST_ONLY_FAST_PROFILE)
        mobile = erik.mobile
    forged = run("call", "--from", str(mobile), "--to", "333", "--dtmf", "1")
    assert "plays vm_enter_pin" in forged.output and "plays vm_menu" not in forged.output
    result = run(
        "call", "--from", str(mobile), "--to", "333", "--dtmf", "4711#5", "--say", str(say)
    )
    assert result.exit_code == 0, result.output
    assert "plays vm_menu" in result.output and "greeting saved" in result.output
    played = run("call", "--from", str(mobile), "--to", "333", "--dtmf", "4711#4", "--json")
    steps = json.loads(played.output)["steps"]
    greeting = [s for s in steps if s["kind"] == "prompt" and s["slot_name"].startswith("Häls")]
    assert [s["audio"] for s in greeting] == ["ok"]
