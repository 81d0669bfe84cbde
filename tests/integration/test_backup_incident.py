"""The documented incident-2 sequence, run as the script operators would run it
(scripts/incident2-demo), on both databases: backup, loss, scan, restore of exactly the
missing media, clean scan, test calls."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.databases import pg_url

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("backend", "media_store"), [("sqlite", "files"), ("postgresql", "database")]
)
def test_incident2_demo_script(
    request: pytest.FixtureRequest, backend: str, media_store: str
) -> None:
    env = {**os.environ, "PBX_MEDIA_STORE": media_store}
    env.pop("PBX_DATA_DIR", None)
    env.pop("PBX_DATABASE_URL", None)
    if backend == "postgresql":
        dbs = request.getfixturevalue("_pg_dbs")
        name = f"pbx_t_incident_{os.getpid()}"
        dbs._create(name)  # empty: the script migrates it
        request.addfinalizer(lambda: dbs.drop(pg_url(name)))
        env["PBX_DATABASE_URL"] = pg_url(name)
    done = subprocess.run(
        [str(ROOT / "scripts" / "incident2-demo"), "--lose", "5"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "the scan names exactly the 5 lost blobs" in out
    assert out.count("bytes, identical") == 5 and "5 written back" in out
    # the scan after the restore counts exactly what the scan before the fault counted
    before = re.search(r"(\d+) blobs re-hashed, (\d+) references: clean", out.split("== 2.")[0])
    assert before is not None and int(before.group(1)) > 40
    assert f"{before.group(0)}" in out.split("== 7.")[1]
    assert "Done: backup, loss, scan" in out
