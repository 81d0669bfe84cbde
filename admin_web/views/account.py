"""The signed-in person's own account: password, two-factor authentication, sessions; and
the pages behind setup/reset links and "forgot password" (for people not signed in)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from admin_web.auth import (
    accounts_config,
    client_ip,
    current_account,
    current_actor,
    login_required,
    mark_reauthenticated,
    reauth_required,
    recently_reauthenticated,
    safe_next,
    sign_in,
)
from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.password_messages import flash_problems
from admin_web.ratelimit import rate_limit
from admin_web.security_headers import no_store
from admin_web.totp_offer import current_offer
from admin_web.views.site_nav import Link, menu_for
from pbx import identifiers
from pbx.errors import ValidationError
from pbx.services.accounts import core as accounts
from pbx.services.accounts import login as login_service
from pbx.services.accounts import sessions as accounts_sessions
from pbx.services.accounts import totp as accounts_totp
from pbx.services.accounts.core import InvalidLink, PasswordRejected, WrongPassword, find_by_email
from pbx.services.accounts.login import LoginFailed
from storage.models import User

bp = Blueprint("account", __name__, url_prefix="/account")
LINK_KEY = "password_link"


no_store(bp)


@bp.get("/password/<token>")
@rate_limit("30 per minute", methods=("GET",))
def password_link(token: str) -> Response:
    """A setup/reset link: keep the token in the session, off the URL (history, Referer)."""
    session[LINK_KEY] = token
    return redirect(url_for("account.set_password"))


@bp.route("/password", methods=["GET", "POST"])
@rate_limit("20 per minute; 100 per hour")
def set_password() -> Any:
    """Choose a password through a setup or reset link."""
    token = session.get(LINK_KEY, "")
    try:
        user, purpose = accounts.peek_link(db(), str(token))
    except InvalidLink:
        return render_template("auth/link_invalid.html"), 410
    if request.method == "GET":
        return render_template("auth/set_password.html", user=user, purpose=purpose)
    new = _new_password_or_none()
    if new is None:
        return render_template("auth/set_password.html", user=user, purpose=purpose)
    try:
        accounts.complete_link(db(), accounts_config(), str(token), new, client_ip())
    except PasswordRejected as exc:
        flash_problems(exc.problems)
        return render_template("auth/set_password.html", user=user, purpose=purpose)
    session.pop(LINK_KEY, None)
    flash(_("Your password is set. Sign in with it now."), "success")
    return redirect(url_for("auth.login"))


def _new_password_or_none() -> str | None:
    new, again = request.form.get("new_password", ""), request.form.get("new_password_again", "")
    if new != again:
        flash(_("The two new passwords differ."), "error")
        return None
    return new


@bp.route("/change-password", methods=["GET", "POST"])
@login_required
@rate_limit("10 per minute; 50 per hour")
def change_password() -> Any:
    """Change your password; the current one is required."""
    if request.method == "GET":
        return render_template("auth/change_password.html")
    new = _new_password_or_none()
    if new is None:
        return render_template("auth/change_password.html")
    account = current_account()
    try:
        accounts.change_password(
            db(), accounts_config(), current_actor(), account, request.form.get("current", ""), new
        )
    except WrongPassword:
        flash(_("The current password is wrong."), "error")
        return render_template("auth/change_password.html")
    except PasswordRejected as exc:
        flash_problems(exc.problems)
        return render_template("auth/change_password.html")
    # Every session was ended (the token rotated); this browser gets a fresh one.
    sign_in(account, with_totp=False)
    flash(_("Your password is changed. Every other session was signed out."), "success")
    return redirect(url_for("account.two_factor"))


@bp.get("/")
@login_required
def index() -> str:
    """Your account: who is signed in, and every setting of one's own in one place."""
    account = current_account()
    own = [shown for shown in menu_for(account.role) if shown.section.label == "My settings"]
    return render_template(
        "auth/account.html",
        account=account,
        links=[*(own[0].links if own else []), *_session_link()],
    )


def _session_link() -> list[Link]:
    return [Link("account.sessions", "Sessions", url_for("account.sessions"))]


@bp.get("/two-factor")
@login_required
def two_factor() -> str:
    """Two-factor status and what can be done with it."""
    account = current_account()
    return render_template(
        "auth/two_factor.html",
        account=account,
        required=accounts.totp_required(account),
        next=safe_next(request.args.get("next"), ""),
    )


@bp.route("/two-factor/enrol", methods=["GET", "POST"])
@login_required
@rate_limit("20 per minute; 100 per hour")
def enrol() -> Any:
    """Link an authenticator app: first time with your password, a replacement only after
    full re-authentication (SECURITY.md 9)."""
    account = current_account()
    if account.totp_secret_enc and not recently_reauthenticated():
        return redirect(url_for("auth.reauth", next=url_for("account.enrol")))
    config = accounts_config()
    offer = current_offer(config, account)
    if request.method == "GET":
        return _enrol_page(offer)
    if not account.totp_secret_enc and not _password_ok(account):
        flash(_("The password is wrong."), "error")
        return _enrol_page(offer)
    try:
        codes = accounts_totp.confirm(
            db(), config, current_actor(), account, offer.secret, request.form.get("code", "")
        )
    except accounts_totp.WrongCode as exc:
        flash(_(exc.message), "error")
        return _enrol_page(offer)
    sign_in(account, with_totp=True)  # the token rotated: a fresh session for this browser
    mark_reauthenticated()
    target = safe_next(request.form.get("next"), url_for("account.two_factor"))
    return render_template("auth/recovery_codes.html", codes=codes, next=target)


def _enrol_page(offer: accounts_totp.Enrolment) -> str:
    account = current_account()
    return render_template(
        "auth/enrol.html",
        offer=offer,
        action=url_for("account.enrol"),
        ask_password=not account.totp_secret_enc,
        next=safe_next(request.values.get("next"), ""),
    )


def _password_ok(account: User) -> bool:
    try:
        login_service.check_own_password(
            db(), accounts_config(), account, request.form.get("password", ""), client_ip()
        )
    except LoginFailed:
        return False
    return True


@bp.post("/two-factor/disable")
@reauth_required
def disable_two_factor() -> Response:
    """Turn two-factor authentication off (users only; admins and operators must keep it)."""
    account = current_account()
    accounts_totp.disable(db(), current_actor(), account)
    sign_in(account, with_totp=False)
    flash(_("Two-factor authentication is off."), "warning")
    return redirect(url_for("account.two_factor"))


@bp.post("/two-factor/recovery-codes")
@reauth_required
def renew_recovery_codes() -> str:
    """Ten new recovery codes; the old ones stop working."""
    codes = accounts_totp.renew_recovery_codes(db(), current_actor(), current_account())
    return render_template("auth/recovery_codes.html", codes=codes, next=url_for(".two_factor"))


@bp.get("/sessions")
@login_required
def sessions() -> str:
    """Where you are signed in."""
    rows = accounts_sessions.list_live(db(), current_account())
    current_id = getattr(_current_browser(), "id", None)
    return render_template("auth/sessions.html", rows=rows, current_id=current_id)


def _current_browser() -> Any:
    return current_user.browser


@bp.post("/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int) -> Response:
    """End one of your sessions."""
    accounts_sessions.end(db(), current_actor(), current_account(), session_id)
    flash(_("The session was ended."), "success")
    return redirect(url_for("account.sessions"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@rate_limit("5 per minute; 20 per hour")
def forgot_password() -> Any:
    """Ask for a reset link; the answer is the same whether the account exists or not."""
    if request.method == "GET":
        return render_template("auth/forgot_password.html")
    user = _lookup(request.form.get("email", ""))
    if user is not None and user.status == "active":
        actor = current_actor()
        accounts.issue_link(db(), accounts_config(), actor, user, "reset")
    flash(_("If the address belongs to an account, a link to choose a new password is on its way."))
    return redirect(url_for("auth.login"))


def _lookup(email: str) -> User | None:
    try:
        return find_by_email(db(), identifiers.email(email))
    except ValidationError:
        return None
