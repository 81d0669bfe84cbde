"""Actions that survive re-authentication (issue 16 item 6).

A form post that needs a fresh password + code is not thrown away: its fields are kept in
the (signed) session, the browser goes to the re-authentication page, and once the password
and code are right the page posts the kept form to where it was going, with a fresh CSRF
token (a small script submits it; without script the person presses "Continue"). So the
export downloads, the revert happens, the forwarding is saved, without typing anything again.

What is kept: the post's own fields, never its CSRF token or anything named like a password
or code; only for posts without files and under `MAX_BYTES` (the session is a cookie). The
kept post belongs to one re-authentication: it is replayed only when the page comes back to
the `next` it was stored with, within `KEEP_SECONDS`, and only once. Otherwise (files, too
large) the page that showed the form comes back filled in, as before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, request, session, url_for
from werkzeug.wrappers import Response

KEY = "reauth_pending"
KEEP_SECONDS = 10 * 60
MAX_BYTES = 2500
NEVER_KEPT = ("csrf_token",)
SECRET_WORDS = ("password", "code", "secret", "pin")


@dataclass(frozen=True)
class Pending:
    """A post waiting for re-authentication: where it goes and what it carries."""

    action: str
    fields: list[tuple[str, str]]
    back: str


def _kept_fields() -> list[tuple[str, str]] | None:
    """The post's fields to keep, or None when it cannot (or must not) be kept."""
    if request.files:
        return None
    fields: list[tuple[str, str]] = []
    for name, value in request.form.items(multi=True):
        if name in NEVER_KEPT:
            continue
        if any(word in name.lower() for word in SECRET_WORDS):
            return None
        fields.append((name, value))
    if sum(len(n) + len(v) for n, v in fields) > MAX_BYTES:
        return None
    return fields


def ask(back: str, reason: str | None = None) -> Response:
    """To the re-authentication page; a post is kept and made right after it.

    `back` is the page to return to (for a form post: the form, filled in) when the post
    cannot be kept or the person gives up."""
    fields = _kept_fields() if request.method == "POST" else None
    if fields is not None:
        session[KEY] = {
            "action": request.full_path.rstrip("?"),
            "fields": fields,
            "back": back,
            "at": int(time.time()),
        }
    else:
        session.pop(KEY, None)
    if reason:
        flash(reason, "warning")
    return redirect(url_for("auth.reauth", next=back))


def waiting(back: str) -> Pending | None:
    """The post kept for this re-authentication (returning to `back`), if any, unused."""
    kept = session.get(KEY)
    if not isinstance(kept, dict) or kept.get("back") != back:
        return None
    at = kept.get("at")
    if not isinstance(at, int) or not 0 <= time.time() - at < KEEP_SECONDS:
        return None
    action = str(kept.get("action", ""))
    if not action.startswith("/") or action.startswith("//"):
        return None
    fields = [(str(n), str(v)) for n, v in _pairs(kept.get("fields"))]
    return Pending(action=action, fields=fields, back=back)


def take(back: str) -> Pending | None:
    """Like `waiting`, and forget it: a kept post is made once."""
    found = waiting(back)
    session.pop(KEY, None)
    return found


def _pairs(value: Any) -> list[tuple[Any, Any]]:
    if not isinstance(value, list):
        return []
    return [tuple(pair) for pair in value if isinstance(pair, list | tuple) and len(pair) == 2]
