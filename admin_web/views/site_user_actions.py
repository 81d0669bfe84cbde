"""What an admin does to a user's account from the Users page: suspend and unsuspend, force a
password reset (a single-use link goes to the owner; the admin never picks a password), see
the user's signed-in sessions and end one. The work is the accounts feature's services."""

from __future__ import annotations

from flask import Blueprint, flash, render_template
from werkzeug.wrappers import Response

from admin_web.auth import accounts_config, roles_required
from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.views.site_common import actor
from admin_web.views.site_users import back_to, scoped_user
from pbx.services.accounts import admin as accounts_admin
from pbx.services.accounts import sessions as accounts_sessions

bp = Blueprint("site_user_actions", __name__, url_prefix="/users")


@bp.post("/<user_id>/suspend")
@roles_required("company_admin", "operator")
def suspend(user_id: str) -> Response:
    """Shut the account off at once (every session ends)."""
    user = scoped_user(user_id)
    accounts_admin.suspend_user(db(), actor(), user)
    flash(_("%(name)s is suspended and signed out everywhere.", name=user.name), "success")
    return back_to(user)


@bp.post("/<user_id>/unsuspend")
@roles_required("company_admin", "operator")
def unsuspend(user_id: str) -> Response:
    user = scoped_user(user_id)
    accounts_admin.unsuspend_user(db(), actor(), user)
    flash(_("%(name)s can sign in again.", name=user.name), "success")
    return back_to(user)


@bp.post("/<user_id>/reset-password")
@roles_required("company_admin", "operator")
def reset_password(user_id: str) -> Response:
    """The old password stops working; the owner gets a reset link by e-mail."""
    user = scoped_user(user_id)
    accounts_admin.force_reset_user(db(), accounts_config(), actor(), user)
    flash(
        _("%(name)s must choose a new password; a reset link has been sent.", name=user.name),
        "success",
    )
    return back_to(user)


@bp.get("/<user_id>/sessions")
@roles_required("company_admin", "operator")
def sessions(user_id: str) -> str:
    """The user's signed-in browsers."""
    user = scoped_user(user_id)
    rows = accounts_sessions.list_live(db(), user)
    return render_template("site/user_sessions.html", person=user, rows=rows)


@bp.post("/<user_id>/sessions/<int:session_id>/end")
@roles_required("company_admin", "operator")
def end_session(user_id: str, session_id: int) -> Response:
    user = scoped_user(user_id)
    accounts_sessions.end(db(), actor(), user, session_id)
    flash(_("The session is ended."), "success")
    return back_to(user)
