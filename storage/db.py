"""Engine and session setup. Callers own the transaction: `with session_scope(factory) as s:`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's legacy transaction handling starts transactions lazily and breaks
        # SAVEPOINTs; emit BEGIN ourselves so a unit of work reads one consistent snapshot.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event emit BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# A connection execution option: "immediate" makes SQLite's BEGIN take the write lock.
BEGIN_MODE = "sqlite_begin"


def _sqlite_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get(BEGIN_MODE) == "immediate"
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def begin_for_writing(session: Session) -> None:
    """Start `session`'s transaction holding SQLite's write lock (a no-op on PostgreSQL).

    In WAL mode a deferred transaction that reads and then writes fails at once with
    "database is locked" when another connection committed in between (its snapshot is
    stale, so the busy timeout cannot help). Taking the lock at BEGIN makes concurrent
    writers queue within the busy timeout instead. Call before the session's first query."""
    session.connection(execution_options={BEGIN_MODE: "immediate"})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error."""
    with factory() as session, session.begin():
        yield session


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
