"""Organisation / Användare: the company's users (company admins and operators).

List with search, create (the new user gets a setup link: an admin never picks a password),
edit extension / mobile / role. Suspension, forced password reset and sessions are the
accounts feature's services, called from site_user_actions.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from admin_web import reauth_pending
from admin_web.auth import accounts_config, recently_reauthenticated, roles_required
from admin_web.db import db
from admin_web.i18n import gettext
from admin_web.i18n import gettext as _
from admin_web.views.site_common import (
    Form,
    actor,
    render_form,
    site_object,
    site_tenant,
)
from pbx.errors import ValidationError
from pbx.services.accounts import core as accounts
from pbx.services.people import phones, users
from pbx.services.people.users import TENANT_ROLES, update_user
from pbx.services.routing import forwarding
from storage.models import Tenant, User

bp = Blueprint("site_users", __name__, url_prefix="/users")
ROLE_LABELS = {"company_admin": "Company administrator", "user": "User", "operator": "Operator"}


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"role_labels": ROLE_LABELS}


@bp.get("/")
@roles_required("company_admin", "operator")
def index() -> str:
    """Every user of the company; `q` searches name, e-mail and extension."""
    tenant = site_tenant()
    query = request.args.get("q", "").strip()[:100]
    people = users.list_users(db(), tenant.id, query)
    registered = phones.registered_users(db(), tenant.id)
    roles = {role: gettext(label) for role, label in ROLE_LABELS.items()}
    return render_template(
        "site/users.html",
        people=people,
        registered=registered,
        q=query,
        roles=roles,
        base=url_for(".index"),
        # Each row's picture (or its initials placeholder) by id; the URL is built once.
        pictures=url_for("media.user_picture", user_id="0").removesuffix("0/picture"),
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required("company_admin", "operator")
def create() -> Any:
    """A new user; they get a setup link by e-mail to choose their own password."""
    tenant = site_tenant()
    form = Form(request.form)
    if request.method == "POST":
        try:
            user = users.create_user(db(), actor(), tenant, **_person(form, with_email=True))
            accounts.issue_link(db(), accounts_config(), actor(), user, "setup")
            flash(_("%(name)s is added and has been sent a setup link.", name=user.name), "success")
            return redirect(url_for(".edit", user_id=user.id))
        except ValidationError as exc:  # a taken e-mail or extension among them
            form.fail(exc)
    return render_form("site/user_new.html", form, roles=TENANT_ROLES)


def _person(form: Form, *, with_email: bool = False) -> dict[str, Any]:
    values = {
        "name": form.text("name"),
        "extension": form.text("extension").strip(),
        "mobile": form.text("mobile").strip(),
        "mobile_reason": form.text("mobile_reason").strip(),
        "role": form.text("role", "user"),
    }
    if with_email:
        values["email"] = form.text("email")
        values["extension"] = values["extension"] or None
        values["mobile"] = values["mobile"] or None
    return values


@bp.route("/<user_id>", methods=["GET", "POST"])
@roles_required("company_admin", "operator")
def edit(user_id: str) -> Any:
    """A user's details, with links to their forwarding and sessions."""
    tenant = site_tenant()
    user = site_object(User, user_id, tenant)
    # After re-authentication the form comes back filled in from the query string.
    form = Form(request.form if request.method == "POST" else request.args)
    if request.method == "POST":
        try:
            person = _person(form)
            if _mobile_needs_reauth(tenant, user, person):
                back = url_for(".edit", user_id=user.id, **person)
                reason = _("Confirm it is you to change the mobile number.")
                return reauth_pending.ask(back, reason)
            update_user(db(), actor(), user, **person)
            flash(_("Saved."), "success")
            return redirect(url_for(".edit", user_id=user.id))
        except ValidationError as exc:
            form.fail(exc)
    rules = forwarding.rules_of(db(), user.id)
    return render_form("site/user_edit.html", form, person=user, roles=TENANT_ROLES, rules=rules)


def _mobile_needs_reauth(tenant: Tenant, user: User, person: dict[str, Any]) -> bool:
    """A new mobile opens the user's voicemail (333) and receives their callbacks: check it
    against the number rules first (a refused number is refused at once), then ask for
    re-authentication unless it is fresh (SECURITY.md 16)."""
    if not person["mobile"] or not users.mobile_changes(user, person["mobile"], tenant.home_region):
        return False  # unchanged, or removed (which hands the mailbox to nobody)
    users.own_mobile(person["mobile"], tenant.home_region, person["mobile_reason"])
    return not recently_reauthenticated()


def scoped_user(user_id: str) -> User:
    return site_object(User, user_id)


def back_to(user: User) -> Response:
    return redirect(url_for("site_users.edit", user_id=user.id))
