"""Fixtures of the call tests: a switchboard on a fresh SQLite database that real peers call
(see `call_world`). The worker itself is started inside each test's event loop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import SqliteDatabases
from tests.phone.call_world import PhoneWorld, build_world


@pytest.fixture
def world(_sqlite_dbs: SqliteDatabases, tmp_path: Path) -> Iterator[PhoneWorld]:
    url = _sqlite_dbs.fresh()
    made = build_world(url, tmp_path / "data")
    yield made
    made.runtime.close()
    _sqlite_dbs.drop(url)
