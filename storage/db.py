"""Engine and session setup. Callers own the transaction: `with session_scope(factory) as s:`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import Session, sessionmaker

# See _ping_idle_connections.
PING_AFTER_IDLE_S = 5.0
_IDLE_SINCE = "pbx_idle_since"


def make_engine(url: str, ping_after_idle: float = PING_AFTER_IDLE_S, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout; a server
    database gets its idle connections pinged before use (`ping_after_idle` seconds). On
    both, page views' connections refuse writes (see `begin_reading`)."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's legacy transaction handling starts transactions lazily and breaks
        # SAVEPOINTs; emit BEGIN ourselves so a unit of work reads one consistent snapshot.
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "before_cursor_execute", _refuse_writes)
        return engine
    engine = create_engine(url, **kwargs)
    _ping_idle_connections(engine, ping_after_idle)
    event.listen(engine, "before_cursor_execute", _refuse_writes)
    return engine


def _ping_idle_connections(engine: Engine, after: float) -> None:
    """Ping a pooled connection before use when it sat unused for `after` seconds: the
    server may have restarted meanwhile, and a dead connection is then replaced (and the
    rest of the pool with it) before the request sees it. Connections in steady use are not
    pinged: a ping on every checkout (`pool_pre_ping`) cost a round trip per page view, and
    if the server goes away while they are busy, the failing query invalidates the pool
    itself, so the requests in flight at that moment fail and the next ones work."""

    def note_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < after:
            return  # a fresh connection, or one in steady use
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as err:
            raise InvalidatePoolError(f"idle connection is dead: {err}") from err

    event.listen(engine, "checkin", note_checkin)
    event.listen(engine, "checkout", ping_if_idle)


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


def begin_reading(session: Session) -> None:
    """Start `session` as a page view: it may read, and any INSERT, UPDATE or DELETE on its
    connection fails with `WriteInPageView` (on both databases, so tests catch a view that
    writes where it should not). On PostgreSQL it reads in autocommit: no BEGIN and COMMIT
    round trips for a page that only reads (each query sees the data committed before it).
    A view that must write ends this with `session.commit()` and starts a transaction of its
    own with `begin_for_writing`. Call before the session's first query."""
    options: dict[str, Any] = {READ_ONLY: True}
    if session.get_bind().dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    session.connection(execution_options=options)


def read_snapshot(session: Session) -> None:
    """In a page view begun with `begin_reading`, read the rest from one snapshot: a read-only
    transaction after all. For reports that stream many rows (server-side cursors need a
    transaction on PostgreSQL) and want one consistent picture of them."""
    session.commit()
    session.begin()
    session.connection(execution_options={READ_ONLY: True})


class WriteInPageView(RuntimeError):
    """A write on a connection begun with `begin_reading`: a programming error."""


# A connection execution option: set by begin_reading, checked before every statement.
READ_ONLY = "pbx_read_only"


def _refuse_writes(
    conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
) -> None:
    if context is None or not conn.get_execution_options().get(READ_ONLY):
        return
    if context.isinsert or context.isupdate or context.isdelete:
        raise WriteInPageView(f"a page view tried to write: {statement[:80]}")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error."""
    with factory() as session, session.begin():
        yield session


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
