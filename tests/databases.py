"""Fresh, migrated test databases on SQLite and PostgreSQL.

Migrations run once per backend into a template; each test then gets a copy (a file copy
for SQLite, `CREATE DATABASE … TEMPLATE` for PostgreSQL), so tests may commit freely.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from storage.db import make_engine
from storage.migrate import upgrade

PG_ADMIN_URL = os.environ.get("PBX_TEST_PG_URL", "postgresql+psycopg://127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pg_admin_engine() -> Engine:
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_size=1)


def require_postgres() -> Engine:
    """The admin engine, or a skip outside CI; under CI an unreachable server fails."""
    engine = pg_admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "not reachable"
        if IN_CI:
            pytest.fail(f"PostgreSQL must be reachable under CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable (outside CI only): {exc}")
    return engine


def pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


class PostgresDatabases:
    def __init__(self) -> None:
        self.admin = require_postgres()
        self.template = f"pbx_tmpl_{uuid.uuid4().hex[:12]}"
        self.created: list[str] = []
        self._create(self.template)
        engine = make_engine(pg_url(self.template))
        upgrade(engine)
        engine.dispose()

    def _create(self, name: str, template: str | None = None) -> None:
        suffix = f" TEMPLATE {template}" if template else ""
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
        self.created.append(name)

    def fresh(self) -> str:
        name = f"pbx_t_{uuid.uuid4().hex[:16]}"
        self._create(name, self.template)
        return pg_url(name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in list(self.created):
            self.drop(pg_url(name))
        self.admin.dispose()


class SqliteDatabases:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.template = root / "template.sqlite3"
        engine = make_engine(f"sqlite:///{self.template}")
        upgrade(engine)
        engine.dispose()

    def fresh(self) -> str:
        path = self.root / f"{uuid.uuid4().hex[:16]}.sqlite3"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        pass
