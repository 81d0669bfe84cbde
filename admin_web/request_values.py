"""Ids and integers from a request, range-checked once where the request is parsed.

Every database column behind an id is a signed 64-bit integer: a larger number reached
PostgreSQL as a 500 ("integer out of range"), and a NUL byte in any text as another ("string
literal cannot contain NUL characters"). So, for every request:

- a route argument named `id` or `…_id` that is not 1 … 2**63-1 is a 404, like an id that
  does not exist (`check_route_ids`, a URL value preprocessor);
- a NUL character anywhere in the query string or form is refused with 400 before any view
  runs (no text of this site may carry one);
- form integers and ids go through `parse_int` / `parse_id` (used by `Form.integer`,
  `Form.optional_id`, destination pickers, queue members, paging), so an out-of-range one is
  a form error, never an exception.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, abort, request

MAX_ID = 2**63 - 1
MIN_INT = -(2**63)
_ID = re.compile(r"[1-9][0-9]{0,18}")
_INT = re.compile(r"[+-]?[0-9]{1,19}")


def parse_id(raw: object) -> int | None:
    """A database id (1 … 2**63-1) from request text, or None."""
    text = str(raw).strip() if raw is not None else ""
    if not _ID.fullmatch(text):
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def parse_int(raw: object) -> int | None:
    """A signed 64-bit integer from request text, or None (not a number or out of range)."""
    text = str(raw).strip() if raw is not None else ""
    if not _INT.fullmatch(text):
        return None
    value = int(text)
    return value if MIN_INT <= value <= MAX_ID else None


def is_id_argument(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def check_route_ids(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """404 for a route id outside the range ids have (before the view loads anything)."""
    for name, value in (values or {}).items():
        if is_id_argument(name) and parse_id(value) is None:
            abort(404)


def refuse_nul() -> None:
    for source in (request.args, request.form):
        for values in source.listvalues():
            if any("\x00" in value for value in values):
                abort(400, description="The request contains a NUL character.")


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(check_route_ids)
    app.before_request(refuse_nul)
