"""Who is signed in, and the decorators every page uses (the auth contract).

- `login_required`: signed in, else to the login page and back.
- `roles_required(*roles)`: signed in with one of `roles` ("operator", "company_admin",
  "user"), else 403.
- `reauth_required`: password + TOTP given within the last 5 minutes (SECURITY.md 16), else
  to the re-authentication page and back.
- `current_actor()`: the `Actor` to pass to services; `current_account()`: the `User` row,
  loaded in the request's session `admin_web.db.db()`.

Session identity is the account's rotating `session_token` (flask-login's `get_id`), plus a
per-browser session id checked against its `UserSession` row on every request, which is where
the idle (30 min) and absolute (12 h) timeouts are enforced: server-side, so a copied cookie
dies with them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, abort, current_app, g, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user
from flask_login import login_required as _flask_login_required
from sqlalchemy.exc import OperationalError

from admin_web import reauth_pending
from admin_web.db import db, runtime
from admin_web.i18n import gettext
from pbx.services.accounts import sessions as accounts_sessions
from pbx.services.accounts.core import AccountsConfig
from pbx.services.common.actor import Actor
from storage.models import Tenant, User, UserSession

F = TypeVar("F", bound=Callable[..., Any])
REAUTH_WINDOW_SECONDS = 5 * 60
ROLES = ("operator", "company_admin", "user")
# Kept across `session.clear()` on login: a preference, not a credential.
KEPT_ON_LOGIN = ("lang",)


class SignedIn(UserMixin):  # type: ignore[misc]
    """flask-login's user: the account row and its live browser session."""

    def __init__(self, account: User, browser: UserSession, company: Tenant | None = None) -> None:
        self.account = account
        self.browser = browser
        self.company = company  # held for the request: see accounts_sessions.Resumed

    def get_id(self) -> str:
        return self.account.session_token


def init_app(app: Flask) -> None:
    settings = app.config["PBX_SETTINGS"]
    app.extensions["pbx_accounts"] = AccountsConfig.from_settings(settings)
    app.config["PERMANENT_SESSION_LIFETIME"] = accounts_sessions.ABSOLUTE_TIMEOUT
    # The cookie lives as long as the absolute timeout from sign-in; the idle timeout is
    # server-side (UserSession.last_seen_at). Re-signing and re-sending the cookie on every
    # response would buy nothing and costs a signature per page view.
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    app.config["REMEMBER_COOKIE_DURATION"] = 0  # no "remember me" (SECURITY.md 14)
    manager = LoginManager()
    manager.session_protection = None  # our own server-side session rows do this job
    manager.login_view = "auth.login"
    manager.login_message = "Please sign in to see this page."
    manager.localize_callback = gettext
    manager.user_loader(_load_user)
    manager.init_app(app)
    app.teardown_request(_touch_browser)


def accounts_config() -> AccountsConfig:
    config: AccountsConfig = current_app.extensions["pbx_accounts"]
    return config


def _load_user(token: str) -> SignedIn | None:
    found = accounts_sessions.resume(db(), token, session.get("sid"))
    if found is None:
        return None
    if accounts_sessions.needs_touch(found.browser):
        g.touch_browser = found.browser.id
    return SignedIn(*found)


def _touch_browser(exc: BaseException | None) -> None:
    """Move the browser session's idle clock on, after the request's own transaction has
    ended: its own one-statement transaction, so a page view never turns the request's
    read into a write that collides with another worker's (SQLite "database is locked")."""
    browser_id = g.pop("touch_browser", None)
    if browser_id is None or exc is not None or "db" in g:
        return
    try:
        with runtime().unit_of_work() as s:
            accounts_sessions.touch(s, browser_id)
    except OperationalError:
        # The write lock stayed busy past the timeout: the next request touches again.
        current_app.logger.warning("session %s: last-seen update skipped (busy)", browser_id)


def sign_in(account: User, *, with_totp: bool) -> None:
    """A fresh session for `account` (SECURITY.md 13: `session.clear()` first)."""
    kept = {key: session[key] for key in KEPT_ON_LOGIN if key in session}
    session.clear()
    session.update(kept)
    sid, browser = accounts_sessions.start(db(), account, client_ip(), request.user_agent.string)
    session["sid"] = sid
    session.permanent = True
    login_user(SignedIn(account, browser), remember=False, fresh=True)
    if with_totp:
        mark_reauthenticated()


def mark_reauthenticated() -> None:
    session["reauth_at"] = int(time.time())


def recently_reauthenticated() -> bool:
    at = session.get("reauth_at")
    return isinstance(at, int) and 0 <= time.time() - at < REAUTH_WINDOW_SECONDS


def client_ip() -> str | None:
    return request.remote_addr


def current_account() -> User:
    """The signed-in account (only inside views behind one of the decorators)."""
    if not current_user.is_authenticated:
        abort(401)
    account: User = current_user.account
    return account


def current_actor() -> Actor:
    """Who is acting, for services and the audit log; anonymous outside a signed-in view."""
    if not current_user.is_authenticated:
        return Actor(None, "anonymous", "anonymous", None, client_ip())
    account = current_user.account
    return Actor(account.id, account.email, account.role, account.tenant_id, client_ip())


def login_required(view: F) -> F:
    """Signed in, else redirected to the login page (and back afterwards)."""
    return cast(F, _flask_login_required(view))


def roles_required(*roles: str) -> Callable[[F], F]:
    """Signed in with one of `roles`, else 403 (the login page first when signed out)."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"unknown role(s): {sorted(unknown)}")

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if current_user.account.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_roles = frozenset(roles)  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorate


def reauth_required(view: F) -> F:
    """Password + TOTP within the last 5 minutes, else to the re-authentication page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        if not recently_reauthenticated():
            # A form post is kept and made right after the password and code (issue 16).
            return reauth_pending.ask(_back_here())
        return view(*args, **kwargs)

    wrapper.reauth_required = True  # type: ignore[attr-defined]
    return cast(F, wrapper)


def _back_here() -> str:
    """Where to return after re-authenticating: this page, or for a form post the page
    that showed the form (the post itself is kept and made: `reauth_pending`)."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    return safe_next(request.referrer, default=url_for("home.index"))


def safe_next(target: str | None, default: str) -> str:
    """Only same-site paths: never an open redirect."""
    if not target:
        return default
    if target.startswith(request.host_url):
        target = "/" + target[len(request.host_url) :]
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
