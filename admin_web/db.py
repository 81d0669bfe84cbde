"""The request's database session and the runtime, as in flaskr's `db.py`: `db()` opens the
session on first use, `init_app` registers the commit / rollback at the end of the request.
Views and helpers import `db` and `runtime` from here (never from `admin_web.app`)."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.orm import Session

from admin_web.runtime import Runtime
from storage.db import begin_for_writing, begin_reading

# Requests that may write start their transaction holding SQLite's write lock (see
# storage.db.begin_for_writing); page views only read (storage.db.begin_reading).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["pbx"]
    return rt


def db() -> Session:
    """The request's session, opened on first use; committed after a successful response."""
    if "db" not in g:
        g.db = runtime().sessions()
        g.db.begin()
        if has_request_context() and request.method in SAFE_METHODS:
            begin_reading(g.db)
        elif has_request_context():
            begin_for_writing(g.db)
    session: Session = g.db
    return session


def init_app(app: Flask, rt: Runtime) -> None:
    """Keep the runtime on the app; one unit of work per request (commit on success)."""
    app.extensions["pbx"] = rt

    @app.after_request
    def _commit(response: Any) -> Any:
        session = g.pop("db", None)
        if session is not None:
            try:
                if response.status_code < 400:
                    session.commit()
                else:
                    session.rollback()
            finally:
                session.close()
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.rollback()
            session.close()
