"""Signing in and out: e-mail + password, then TOTP (or a recovery code, or the enrolment the
role requires), re-authentication for sensitive actions, logout, sign out everywhere.

Between the steps the browser session holds only a "pending" marker (account id, its session
token at the time, when) that expires after 5 minutes; the account is not signed in until the
last step, and then gets a brand-new session.
"""

from __future__ import annotations

import math
import time
from datetime import timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from admin_web import reauth_pending
from admin_web.auth import (
    accounts_config,
    client_ip,
    current_account,
    current_actor,
    login_required,
    mark_reauthenticated,
    safe_next,
    sign_in,
)
from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.i18n import ngettext
from admin_web.ratelimit import rate_limit
from admin_web.security_headers import no_store
from admin_web.totp_offer import current_offer
from pbx.services.accounts import login as login_service
from pbx.services.accounts import sessions as accounts_sessions
from pbx.services.accounts import totp as accounts_totp
from pbx.services.accounts.login import (
    CodeReused,
    LoginFailed,
    PasswordResetRequired,
    Throttled,
)
from storage.models import User

bp = Blueprint("auth", __name__)
PENDING_SECONDS = 5 * 60
FAILED = "Sign-in failed. Check what you typed. After repeated failures you must wait a while."
# The password was right but the stored authenticator secret no longer decrypts (the site's
# secret key changed): say so, and how to get in, instead of failing every code.
UNREADABLE = (
    "Your authenticator cannot be checked on this server right now (its secret key changed). "
    "Sign in with a recovery code, or ask an administrator to reset your two-factor "
    "authentication."
)


def _failed(exc: LoginFailed) -> str:
    """The message of a failed code step or re-authentication (the password is known to
    whoever is there, so the back-off's wait can be told)."""
    if isinstance(exc, Throttled):
        return _wait_text(exc.wait)
    if isinstance(exc, CodeReused):
        return _("That code has been used already. Wait for the next code in your app.")
    return _(UNREADABLE if exc.code == "totp_unreadable" else FAILED)


def _wait_text(wait: timedelta) -> str:
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 120:
        return ngettext(
            "Too many failed attempts. Wait %(n)s second and try again.",
            "Too many failed attempts. Wait %(n)s seconds and try again.",
            seconds,
        )
    minutes = math.ceil(seconds / 60)
    return ngettext(
        "Too many failed attempts. Wait %(n)s minute and try again.",
        "Too many failed attempts. Wait %(n)s minutes and try again.",
        minutes,
    )


# Codes, secrets and QR codes must not stay in a browser or proxy cache (SECURITY.md 6).
no_store(bp)


def _home() -> str:
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
@rate_limit("30 per minute; 300 per hour")
def login() -> Any:
    """Step 1: e-mail address and password."""
    next_url = safe_next(request.values.get("next"), _home())
    if request.method == "GET":
        return render_template("auth/login.html", next=next_url)
    email, password = request.form.get("email", ""), request.form.get("password", "")
    try:
        step = login_service.check_password(db(), accounts_config(), email, password, client_ip())
    except LoginFailed:
        flash(_(FAILED), "error")
        return render_template("auth/login.html", next=next_url, email=email)
    except PasswordResetRequired:
        flash(_("Your password has been reset. Use the link sent to you, or ask for a new one."))
        return redirect(url_for("account.forgot_password"))
    if step.next_step == "done":
        return _finish(step.user, via="password", next_url=next_url)
    _set_pending(step.user, step.next_step, next_url)
    return redirect(url_for("auth.enrol" if step.next_step == "enrol" else "auth.totp"))


def _set_pending(user: User, step: str, next_url: str) -> None:
    kept = session.get("lang")
    session.clear()
    if kept:
        session["lang"] = kept
    session["pending"] = {
        "uid": user.id,
        "tok": user.session_token,
        "step": step,
        "at": int(time.time()),
        "next": next_url,
    }


def _pending(step: str) -> User | None:
    pending = session.get("pending")
    if not isinstance(pending, dict) or pending.get("step") != step:
        return None
    if time.time() - int(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    user = db().get(User, pending.get("uid"))
    if user is None or user.session_token != pending.get("tok") or user.status != "active":
        return None
    return user


def _start_again() -> Response:
    session.pop("pending", None)
    flash(_("Your sign-in took too long. Start again."), "error")
    return redirect(url_for("auth.login"))


def _finish(user: User, *, via: str, next_url: str | None = None) -> Response:
    with_totp = via in ("totp", "enrol")
    login_service.record_login(db(), user, client_ip(), via)
    sign_in(user, with_totp=with_totp)
    return redirect(next_url or _home())


@bp.route("/login/code", methods=["GET", "POST"])
@rate_limit("30 per minute; 300 per hour")
def totp() -> Any:
    """Step 2: the six-digit code from the authenticator app."""
    user = _pending("totp")
    if user is None:
        return _start_again()
    if request.method == "GET":
        return render_template("auth/totp.html")
    try:
        login_service.check_totp(
            db(), accounts_config(), user, request.form.get("code", ""), client_ip()
        )
    except LoginFailed as exc:
        flash(_failed(exc), "error")
        return render_template("auth/totp.html")
    return _finish(user, via="totp", next_url=session["pending"]["next"])


@bp.route("/login/recovery", methods=["GET", "POST"])
@rate_limit("10 per minute; 100 per hour")
def recovery() -> Any:
    """Step 2 without the phone: one of the ten recovery codes."""
    user = _pending("totp")
    if user is None:
        return _start_again()
    if request.method == "GET":
        return render_template("auth/recovery.html")
    code = request.form.get("code", "")
    try:
        left = login_service.check_recovery_code(db(), accounts_config(), user, code, client_ip())
    except LoginFailed as exc:
        flash(_failed(exc), "error")
        return render_template("auth/recovery.html")
    flash(_("Recovery code accepted. Codes left: %(left)s.", left=left), "warning")
    return _finish(user, via="recovery_code", next_url=url_for("account.two_factor"))


@bp.route("/login/enrol", methods=["GET", "POST"])
@rate_limit("30 per minute; 300 per hour")
def enrol() -> Any:
    """Step 2 for an admin or operator without an authenticator: enrol one now."""
    user = _pending("enrol")
    if user is None:
        return _start_again()
    config = accounts_config()
    offer = current_offer(config, user)
    if request.method == "GET":
        return render_template("auth/enrol.html", offer=offer, action=url_for("auth.enrol"))
    actor = login_service.owner_actor(user, client_ip())
    try:
        codes = accounts_totp.confirm(
            db(), config, actor, user, offer.secret, request.form.get("code", "")
        )
    except accounts_totp.WrongCode as exc:
        flash(_(exc.message), "error")
        return render_template("auth/enrol.html", offer=offer, action=url_for("auth.enrol"))
    _finish(user, via="enrol")
    return render_template("auth/recovery_codes.html", codes=codes, next=_home())


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
@rate_limit("10 per minute; 100 per hour")
def reauth() -> Any:
    """Confirm it is still you (password and code) before a sensitive change."""
    account = current_account()
    next_url = safe_next(request.values.get("next"), _home())
    if not account.totp_secret_enc:
        flash(_("Set up two-factor authentication first: this change needs it."), "warning")
        return redirect(url_for("account.two_factor", next=next_url))
    if request.method == "GET":
        return _reauth_page(next_url)
    try:
        _check_both(account, request.form.get("password", ""), request.form.get("code", ""))
    except LoginFailed as exc:
        flash(_failed(exc), "error")
        return _reauth_page(next_url)
    mark_reauthenticated()
    pending = reauth_pending.take(next_url)
    if pending is not None:  # the post that asked for this is made now
        return render_template("auth/reauth_continue.html", pending=pending)
    return redirect(next_url)


def _reauth_page(next_url: str) -> str:
    pending = reauth_pending.waiting(next_url)
    return render_template("auth/reauth.html", next=next_url, pending=pending)


def _check_both(account: User, password: str, code: str) -> None:
    config = accounts_config()
    login_service.check_own_password(db(), config, account, password, client_ip())
    login_service.check_totp(db(), config, account, code, client_ip())


@bp.post("/logout")
def logout() -> Response:
    """Sign out this browser (its session row is revoked: a copied cookie dies too)."""
    accounts_sessions.end_current(db(), session.get("sid"))
    if current_user.is_authenticated:
        logout_user()
    kept = session.get("lang")
    session.clear()
    if kept:
        session["lang"] = kept
    flash(_("You are signed out."))
    return redirect(url_for("auth.login"))


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere() -> Response:
    """End every session of this account, in every browser, this one included."""
    accounts_sessions.sign_out_everywhere(db(), current_actor(), current_account())
    logout_user()
    session.clear()
    flash(_("You are signed out everywhere."))
    return redirect(url_for("auth.login"))
