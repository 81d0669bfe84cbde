"""Shared fixtures: databases on both backends, blob stores, builders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from storage.blobs import FileBlobStore, MemoryBlobStore
from storage.db import make_engine, make_session_factory
from tests.databases import PostgresDatabases, SqliteDatabases

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def _sqlite_dbs(tmp_path_factory: pytest.TempPathFactory) -> SqliteDatabases:
    return SqliteDatabases(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def _pg_dbs() -> Iterator[PostgresDatabases]:
    dbs = PostgresDatabases()
    yield dbs
    dbs.close()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database migrated to head, once on SQLite and once on PostgreSQL."""
    dbs = request.getfixturevalue("_sqlite_dbs" if request.param == "sqlite" else "_pg_dbs")
    url = dbs.fresh()
    yield url
    dbs.drop(url)


@pytest.fixture
def session_factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session in an open transaction, committed at the end of the test if still open."""
    with session_factory() as s, s.begin():
        yield s


@pytest.fixture
def file_blobs(tmp_path: Path) -> FileBlobStore:
    return FileBlobStore(tmp_path / "blobs")


@pytest.fixture
def memory_blobs() -> MemoryBlobStore:
    return MemoryBlobStore()


def open_session(request: pytest.FixtureRequest, backend: str) -> Session:
    """A session in an open transaction on a fresh database of `backend` (for tests that
    parametrize over more than the two databases)."""
    dbs = request.getfixturevalue("_sqlite_dbs" if backend == "sqlite" else "_pg_dbs")
    url = dbs.fresh()
    engine = make_engine(url)
    session = make_session_factory(engine)()
    session.begin()

    def close() -> None:
        session.rollback()
        session.close()
        engine.dispose()
        dbs.drop(url)

    request.addfinalizer(close)
    return session
