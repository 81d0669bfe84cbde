"""Database connections and page views.

Pooled PostgreSQL connections after the server dropped them (a restart, a failover): an
idle connection is checked before use and replaced; one in steady use is not pinged, so
only the request that meets the dead connection fails and the next one works. The server
really drops the connection (`pg_terminate_backend`); nothing is faked. SQLite has no server
and no pool of network connections, so those tests are PostgreSQL's alone.

Page views (`begin_reading`) read, refuse writes, and on PostgreSQL hold no transaction open;
on both databases.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import (
    WriteInPageView,
    begin_for_writing,
    begin_reading,
    make_engine,
    make_session_factory,
    read_snapshot,
)
from storage.models import Tenant
from tests.builders import make_tenant
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


# --- page views (storage.db.begin_reading) ----------------------------------------------------


def page_view(factory: sessionmaker[Session]) -> Session:
    session = factory()
    session.begin()
    begin_reading(session)
    return session


def test_a_page_view_reads_but_refuses_to_write(session_factory) -> None:
    with session_factory() as s, s.begin():
        tenant_id = make_tenant(s).id
    for write in (rename, remove):
        view = page_view(session_factory)
        try:
            assert view.get(Tenant, tenant_id) is not None
            with pytest.raises(WriteInPageView):
                write(view, tenant_id)
        finally:
            view.close()
    with session_factory() as s:
        assert s.get(Tenant, tenant_id).name != "Ändrat AB"


def rename(view: Session, tenant_id: int) -> None:
    view.get(Tenant, tenant_id).name = "Ändrat AB"
    view.flush()


def remove(view: Session, tenant_id: int) -> None:
    view.execute(delete(Tenant).where(Tenant.id == tenant_id))


def test_a_page_view_may_then_write_in_a_transaction_of_its_own(session_factory) -> None:
    view = page_view(session_factory)
    try:
        assert view.scalar(select(func.count()).select_from(Tenant)) == 0
        view.commit()  # as the call log does before auditing a read
        with view.begin():
            begin_for_writing(view)
            make_tenant(view)
    finally:
        view.close()
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Tenant)) == 1


def test_a_report_in_a_page_view_reads_one_snapshot(session_factory) -> None:
    with session_factory() as s, s.begin():
        for _ in range(3):
            make_tenant(s)
    view = page_view(session_factory)
    try:
        read_snapshot(view)
        streamed = view.scalars(select(Tenant.id).execution_options(yield_per=2))
        assert len(list(streamed)) == 3  # a server-side cursor on PostgreSQL
        with pytest.raises(WriteInPageView):
            view.execute(delete(Tenant))
    finally:
        view.close()


def test_a_postgresql_page_view_holds_no_transaction_open(engine, _pg_dbs) -> None:
    view = page_view(make_session_factory(engine))
    try:
        pid = view.scalar(text("SELECT pg_backend_pid()"))
        with _pg_dbs.admin.connect() as conn:
            state = conn.scalar(
                text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )
        assert state == "idle"  # not "idle in transaction": no BEGIN, no COMMIT round trips
    finally:
        view.close()
