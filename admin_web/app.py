"""The Flask application factory."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from admin_web import auth, db, errors, i18n, ratelimit, request_values, security_headers
from admin_web.blueprints import register_blueprints
from admin_web.runtime import Runtime
from pbx.config import Settings, load_settings


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the admin site. Settings are read once here (or passed in by tests)."""
    settings = settings or load_settings(overrides=overrides or None)
    if not settings.secret_key and settings.mode in ("demo", "test"):
        # Demo/test only: a random key per process, never a fixed built-in one.
        settings = replace(settings, secret_key=secrets.token_urlsafe(48))
    app = Flask(__name__)
    app.config.update(_flask_config(settings))
    db.init_app(app, Runtime.build(settings))
    CSRFProtect(app)
    i18n.init_app(app)
    security_headers.init_app(app)
    errors.init_app(app)
    request_values.init_app(app)  # ids out of range: 404; NUL in any value: 400
    auth.init_app(app)
    register_blueprints(app)
    ratelimit.init_app(app)  # after the blueprints: it applies the views' declared limits
    return app


def _flask_config(settings: Settings) -> dict[str, Any]:
    https = settings.public_url.startswith("https://")
    return {
        "SECRET_KEY": settings.require_secret_key(),
        "SECRET_KEY_FALLBACKS": list(settings.secret_key_fallbacks),  # sessions they signed
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
