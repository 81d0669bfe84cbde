"""Pooled PostgreSQL connections after the server dropped them (a restart, a failover): an
idle connection is checked before use and replaced; one in steady use is not pinged, so
only the request that meets the dead connection fails and the next one works.

The server really drops the connection (`pg_terminate_backend`); nothing is faked. SQLite
has no server and no pool of network connections, so this is PostgreSQL's alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from storage.db import make_engine
from tests.databases import PostgresDatabases

IDLE = 0.2  # seconds: how long a connection must sit unused before it is pinged here


@pytest.fixture
def engine(_pg_dbs: PostgresDatabases) -> Iterator[Engine]:
    url = _pg_dbs.fresh()
    engine = make_engine(url, ping_after_idle=IDLE, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()
    _pg_dbs.drop(url)


def backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text("SELECT pg_backend_pid()")) or 0)


def drop_on_the_server(_pg_dbs: PostgresDatabases, pid: int) -> None:
    with _pg_dbs.admin.connect() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def test_an_idle_connection_dropped_by_the_server_is_replaced_unseen(engine, _pg_dbs) -> None:
    first = backend_pid(engine)
    drop_on_the_server(_pg_dbs, first)
    time.sleep(IDLE * 2)
    second = backend_pid(engine)  # no error: the ping found it dead and the pool reconnected
    assert second != first


def test_a_busy_connection_is_not_pinged_and_one_request_pays_for_a_drop(engine, _pg_dbs) -> None:
    first = backend_pid(engine)
    assert backend_pid(engine) == first  # the pool reuses its one connection
    drop_on_the_server(_pg_dbs, first)
    with pytest.raises(DBAPIError) as failed:  # no ping on checkout: the query meets it
        backend_pid(engine)
    assert failed.value.connection_invalidated
    assert backend_pid(engine) != first  # the next request works on a new connection
