"""The composition root: settings → engine, sessions, blob store. Built once per process by
the app factory or the CLI; nothing is created at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from pbx.config import Settings
from storage.blobs import BlobStore, FileBlobStore, SqlBlobStore
from storage.db import make_engine, make_session_factory, session_scope
from storage.migrate import current_revision, head_revision, upgrade


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        if settings.database_url.startswith("sqlite"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.database_url)
        return cls(settings, engine, make_session_factory(engine))

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        with session_scope(self.sessions) as session:
            yield session

    def blobs(self, session: Session) -> BlobStore:
        """The blob store configured for media, bound to `session` when in the database."""
        if self.settings.media_store == "database":
            return SqlBlobStore(session)
        return FileBlobStore(self.settings.blob_dir)

    def migrate(self) -> None:
        upgrade(self.engine)

    def schema_is_current(self) -> bool:
        return current_revision(self.engine) == head_revision(self.engine)

    def close(self) -> None:
        self.engine.dispose()
