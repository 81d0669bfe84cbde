"""What the site's browser tests share: a company to work on, and ageing the browser's
re-authentication (a sign-in with a code counts as one for 5 minutes; the tests need the
prompt now, not in 5 minutes)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.web.site_data import Company, build_company


def seed_company(app: Flask) -> Company:
    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as session:
        return build_company(session, runtime.blobs(session), 1)


def expire_reauth(page: Any, app: Flask) -> None:
    """Rewrite the browser's signed session cookie without the re-authentication time."""
    name = app.config["SESSION_COOKIE_NAME"]
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    cookies = [c for c in page.context.cookies() if c["name"] == name]
    assert cookies, "not signed in"
    state = dict(serializer.loads(cookies[0]["value"]))
    state.pop("reauth_at", None)
    page.context.add_cookies([{**cookies[0], "value": serializer.dumps(state)}])
