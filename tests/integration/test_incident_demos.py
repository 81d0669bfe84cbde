"""Both incident demos end to end (small size) on SQLite and PostgreSQL, through `pbx`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from admin_web.cli import cli
from admin_web.cli.incident_demo import finish
from admin_web.incident_demos.runner import DemoRun, StepFailed, check


@pytest.fixture
def demo_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PBX_DATABASE_URL", db_url)
    monkeypatch.setenv("PBX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PBX_TTS_ENGINES", "espeak")  # offline: no wait on gTTS
    monkeypatch.setenv("PBX_PASSWORD_HASH_PROFILE", "test-only-fast")
    monkeypatch.delenv("PBX_SMTP_URL", raising=False)
    return tmp_path


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_breach_demo_passes_with_a_full_call_history_whatever_the_seed(
    demo_env: Path, seed: int
) -> None:
    """A full history (40 calls a day) holds caller numbers that contain short extensions
    (+46874125111 holds 111): the letters' CSV is checked field by field, not by substring."""
    out = invoke("demo", "breach", "--here", "--seed", str(seed), "--out", str(demo_env / "o"))
    assert "12 of 12 steps ok" in out and "FAILED" not in out


@pytest.mark.slow
def test_breach_demo_passes_every_step(demo_env: Path) -> None:
    out = invoke("demo", "breach", "--here", "--calls-per-day", "2", "--out", str(demo_env / "o"))
    assert "12 of 12 steps ok" in out
    assert "FAILED" not in out
    for text in (
        "premium_rate",
        "contained: erik.lindqvist@bergstrom-bygg.example",
        "stolen password works: False",
        "letters queued",
    ):
        assert text in out
    csv = next((demo_env / "o").glob("affected-callers-*.csv")).read_text()
    assert csv.startswith("number,calls,first_call,last_call")
    assert "Bergström" not in csv and "+46852001" not in csv


@pytest.mark.slow
@pytest.mark.parametrize("media_store", ["files", "database"])
def test_media_loss_demo_passes_every_step(
    demo_env: Path, media_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PBX_MEDIA_STORE", media_store)
    out = invoke("incident", "demo", "media-loss", "--here", "--calls-per-day", "2")
    assert "13 of 13 steps ok" in out and "FAILED" not in out
    assert "messages missing: 0" in out and "voicemail to call back: 2" in out


def test_a_failed_step_is_shown_and_the_run_exits_non_zero(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = DemoRun("demo", print)
    with run.step("works") as figures:
        figures["n"] = 1
    with run.step("fails"):
        check(False, "the thing did not happen")
    with run.step("raises"):
        raise RuntimeError("boom")
    assert [s.ok for s in run.steps] == [True, False, False]
    with pytest.raises(SystemExit) as exit_info:
        finish(run)
    assert exit_info.value.code == 1
    shown = capsys.readouterr().out
    assert "FAILED — the thing did not happen" in shown and "1 of 3 steps ok" in shown
    assert issubclass(StepFailed, Exception)
