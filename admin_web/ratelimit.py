"""Per-IP rate limits (SECURITY.md 11) with flask-limiter.

Views declare their limits with `@rate_limit("10 per minute")`; `init_app` (called after the
blueprints are registered) applies them to the registered endpoints, so no limiter object
lives at module level. Counters are kept in Redis when PBX_REDIS_URL is set, so several web
workers share them; in process memory otherwise (one worker: demo and tests). If Redis is down
the limits fall back to memory instead of failing every login.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "pbx_rate_limits"


def rate_limit(limit: str, methods: Sequence[str] = ("POST",)) -> Callable[[F], F]:
    """Declare a per-IP limit ("10 per minute; 100 per hour") for some methods of a view."""

    def decorate(view: F) -> F:
        declared = list(getattr(view, ATTRIBUTE, []))
        declared.append((limit, tuple(methods)))
        setattr(view, ATTRIBUTE, declared)
        return view

    return decorate


def init_app(app: Flask) -> Limiter:
    settings = app.config["PBX_SETTINGS"]
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.redis_url or "memory://",
        key_prefix=str(settings.extra.get("ratelimit_key_prefix", "vaxel")),
        strategy="moving-window",
        headers_enabled=True,
        in_memory_fallback_enabled=bool(settings.redis_url),
    )
    for endpoint, view in list(app.view_functions.items()):
        limited: Any = view
        for limit, methods in getattr(view, ATTRIBUTE, ()):
            limited = limiter.limit(limit, methods=list(methods))(limited)
        app.view_functions[endpoint] = limited
    return limiter
