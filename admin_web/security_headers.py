"""Response headers of SECURITY.md 19: CSP without inline script, nosniff, no framing."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Any) -> Any:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), geolocation=(), microphone=(self)"
        if current_app.config["SESSION_COOKIE_SECURE"]:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response


def no_store(blueprint: Blueprint) -> None:
    """Keep every response of `blueprint` out of browser and proxy caches: pages with codes,
    secrets, full numbers or incident data must not linger after sign-out (SECURITY.md 6)."""
    blueprint.after_request(_no_store)


def _no_store(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return response
