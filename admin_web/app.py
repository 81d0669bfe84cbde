"""The Flask application factory."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from flask import Flask, g, has_request_context, request
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session

from admin_web import errors, i18n, security_headers
from admin_web.blueprints import register_blueprints
from admin_web.runtime import Runtime
from pbx.config import Settings, load_settings
from storage.db import begin_for_writing, begin_reading


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the admin site. Settings are read once here (or passed in by tests)."""
    settings = settings or load_settings(overrides=overrides or None)
    if not settings.secret_key and settings.mode in ("demo", "test"):
        # Demo/test only: a random key per process, never a fixed built-in one.
        settings = replace(settings, secret_key=secrets.token_urlsafe(48))
    app = Flask(__name__)
    app.config.update(_flask_config(settings))
    runtime = Runtime.build(settings)
    app.extensions["pbx"] = runtime
    CSRFProtect(app)
    i18n.init_app(app)
    security_headers.init_app(app)
    errors.init_app(app)
    _unit_of_work(app)
    from admin_web import auth, ratelimit  # here: they import this module's db()

    auth.init_app(app)
    register_blueprints(app)
    ratelimit.init_app(app)  # after the blueprints: it applies the views' declared limits
    return app


def _flask_config(settings: Settings) -> dict[str, Any]:
    https = settings.public_url.startswith("https://")
    return {
        "SECRET_KEY": settings.require_secret_key(),
        "PBX_SETTINGS": settings,
        "SESSION_COOKIE_NAME": "__Host-vaxel" if https else "vaxel",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "TESTING": settings.mode == "test",
    }


# Requests that may write start their transaction holding SQLite's write lock (see
# storage.db.begin_for_writing); page views only read (storage.db.begin_reading).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def runtime() -> Runtime:
    from flask import current_app

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


def _unit_of_work(app: Flask) -> None:
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
