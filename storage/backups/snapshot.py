"""Consistent database snapshots, and the databases a backup is read or restored into.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies the live file in one
step under a read transaction, so the copy is one consistent state even while the site
writes (WAL). The references are then read from the copy itself.

PostgreSQL: one REPEATABLE READ transaction exports its snapshot; `pg_dump --snapshot`
dumps exactly that state while the same transaction reads the references (and, with media
in the database, the blob bodies). Dump and manifest therefore describe one instant.

Blob bodies never go into a snapshot (`blobs` table data is left out or stripped): they are
in the backup's content-addressed store, so an unchanged store costs nothing to back up.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"


class SnapshotError(Exception):
    """A snapshot could not be taken, opened or restored; the message says which step."""


def sqlite_path(url: str | URL) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise SnapshotError("an in-memory SQLite database cannot be backed up")
    return Path(database)


# --- SQLite -------------------------------------------------------------------------------


def sqlite_snapshot(live: Path, dest: Path) -> None:
    """Copy the live database into `dest` with the online backup API (one consistent step)."""
    src = sqlite3.connect(live)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal/-shm
    finally:
        dst.close()
        src.close()


def strip_blob_bodies(path: Path) -> None:
    """Drop media bodies from a snapshot copy (they are in the backup's blob store)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        if conn.execute("SELECT EXISTS (SELECT 1 FROM blobs)").fetchone()[0]:
            conn.execute("DELETE FROM blobs")
            conn.execute("VACUUM")
    finally:
        conn.close()


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sqlite_engine(path: Path, *, read_only: bool = False) -> Engine:
    """An engine on a snapshot file; read-only snapshots are opened immutable."""
    if read_only:
        return create_engine(
            f"sqlite:///file:{path}?mode=ro&immutable=1&uri=true", poolclass=NullPool
        )
    return create_engine(f"sqlite:///{path}", poolclass=NullPool)


def sqlite_is_empty(path: Path) -> bool:
    if not path.exists():
        return True
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()
    finally:
        conn.close()
    return int(tables[0]) == 0


# --- PostgreSQL ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PgTarget:
    """libpq connection parameters of one database (the password only via the environment)."""

    host: str | None
    port: int | None
    user: str | None
    password: str | None
    dbname: str

    @classmethod
    def from_url(cls, url: str | URL) -> PgTarget:
        u = make_url(url)
        return cls(u.host, u.port, u.username, u.password, u.database or "")

    def args(self) -> list[str]:
        args = [f"--dbname={self.dbname}"]
        if self.host:
            args.append(f"--host={self.host}")
        if self.port:
            args.append(f"--port={self.port}")
        if self.user:
            args.append(f"--username={self.user}")
        return args

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def _run(tool: str, args: list[str], target: PgTarget) -> None:
    exe = shutil.which(tool)
    if exe is None:
        raise SnapshotError(f"{tool} is not on PATH (install the PostgreSQL client tools)")
    done = subprocess.run(
        [exe, *args, *target.args()], env=target.env(), capture_output=True, text=True
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise SnapshotError(f"{tool} failed: {last}")


@contextmanager
def pg_consistent_read(
    engine: Engine, dump_to: Path, *, skip_blob_bodies: bool
) -> Iterator[Session]:
    """Dump the database with pg_dump and yield a session reading the very same snapshot."""
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            conn.execute(text("SET TRANSACTION READ ONLY"))
            snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            args = ["--format=custom", "--no-owner", "--no-privileges", f"--file={dump_to}"]
            args.append(f"--snapshot={snapshot_id}")
            if skip_blob_bodies:
                args.append("--exclude-table-data=blobs")
            _run("pg_dump", args, PgTarget.from_url(engine.url))
            fsync_file(dump_to)
            with Session(bind=conn) as session:
                yield session


def pg_restore(dump: Path, target_url: str | URL) -> None:
    """Restore a dump into an empty database in ONE transaction: a killed restore leaves
    the database as empty as it was."""
    args = ["--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges", str(dump)]
    _run("pg_restore", args, PgTarget.from_url(target_url))


def pg_is_empty(engine: Engine) -> bool:
    query = text(
        "SELECT count(*) FROM information_schema.tables"
        " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
    )
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one()) == 0


@contextmanager
def pg_scratch_database(server_url: str | URL) -> Iterator[str]:
    """A new, empty database on the same server, dropped afterwards; yields its URL."""
    url = make_url(server_url)
    name = f"vaxel_scratch_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


RESTORE_MARK = "vaxel: whole restore in progress from backup "


def pg_restore_mark(engine: Engine) -> str | None:
    """The backup a whole restore into this database started from and has not finished
    (kept as the database's comment, which pg_restore never touches)."""
    query = text(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
        " WHERE datname = current_database()"
    )
    with engine.connect() as conn:
        comment = conn.execute(query).scalar()
    if comment and comment.startswith(RESTORE_MARK):
        return str(comment[len(RESTORE_MARK) :])
    return None


def set_pg_restore_mark(engine: Engine, backup_id: str | None) -> None:
    with engine.connect() as conn:
        name = conn.execute(text("SELECT current_database()")).scalar_one()
        quoted = conn.dialect.identifier_preparer.quote(name)
        value = "NULL" if backup_id is None else _sql_literal(RESTORE_MARK + backup_id)
        conn.execute(text(f"COMMENT ON DATABASE {quoted} IS {value}"))
        conn.commit()


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
