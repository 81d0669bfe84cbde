"""Error pages in the site's style, and domain errors mapped to HTTP statuses."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template

from pbx.errors import NotFound, PermissionDenied

PAGES = {
    400: "Bad request",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "Method not allowed",
    413: "The file is too large",
    429: "Too many attempts. Wait a moment and try again.",
    500: "Something went wrong on our side",
}


def init_app(app: Flask) -> None:
    for status in PAGES:
        app.register_error_handler(status, _page(status))
    app.register_error_handler(NotFound, lambda exc: _render(404))
    app.register_error_handler(PermissionDenied, lambda exc: _render(403))


def _page(status: int) -> Any:
    return lambda exc: _render(status)


def _render(status: int) -> tuple[str, int]:
    return render_template("error.html", status=status, message=PAGES[status]), status
