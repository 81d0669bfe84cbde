"""Fault injection: `backup create` and restores killed with SIGKILL at random points,
50 trials each per database (the machinery and its invariants: backup_faults.py;
benchmarks/backup_bench.py runs more trials). After every kill the live store is undamaged
and no partial backup is listed as complete; the next run completes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.backup_faults import kill_creates, kill_restores
from tests.integration.backup_world import World, empty_database, make_world

TRIALS = 50

pytestmark = pytest.mark.slow


@pytest.fixture
def world(db_url: str, tmp_path: Path):
    made = make_world(db_url, tmp_path / "data", companies=2, extra=6)
    yield made
    made.close()


def test_killed_backup_create_never_harms_and_the_next_run_completes(world: World) -> None:
    stats = kill_creates(world, TRIALS)
    assert stats.trials == TRIALS
    assert stats.kills >= TRIALS // 2, f"only {stats.kills} of {TRIALS} runs were killed mid-way"


def test_killed_restores_never_harm_and_the_next_run_completes(
    world: World, request: pytest.FixtureRequest
) -> None:
    stats = kill_restores(world, TRIALS, lambda where: empty_database(request, world, where))
    assert stats.trials == TRIALS
    assert stats.kills >= TRIALS // 2, f"only {stats.kills} of {TRIALS} were killed mid-way"
    assert stats.by_mode.get("whole", 0) >= 3  # killed whole restores were resumed
