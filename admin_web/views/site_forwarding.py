"""Vidarekoppling: a user's own forwarding (Mina inställningar) and an admin's view of any
user's forwarding, plus the owner's "this wasn't me" review link.

Saving runs the fraud guard first, so a refused number is refused with its reason
(premium-rate, country not allowed, +88x ...) before anything else. An external destination
then needs re-authentication (SECURITY.md 16): the person is sent to confirm with password and
code and comes back to the form filled in as they left it; the post itself is not replayed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from admin_web import reauth_pending
from admin_web.auth import (
    accounts_config,
    client_ip,
    current_account,
    recently_reauthenticated,
    roles_required,
)
from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.ratelimit import rate_limit
from admin_web.views.site_common import Form, actor, render_form, site_tenant
from admin_web.views.site_users import scoped_user
from pbx.errors import ValidationError
from pbx.services.accounts.admin import suspend_user
from pbx.services.fraud.suspension import open_block
from pbx.services.routing import forwarding, forwarding_review
from storage.models import Tenant, User

bp = Blueprint("site_forwarding", __name__)
KIND_LABELS = {
    "unconditional": "Always",
    "busy": "When busy",
    "no_answer": "When not answered",
    "unavailable": "When unavailable",
}


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"forwarding_labels": KIND_LABELS}


@bp.route("/me/forwarding", methods=["GET", "POST"])
@roles_required("company_admin", "user")
def mine() -> Any:
    """My own forwarding (Mina inställningar / Vidarekoppling)."""
    account = current_account()
    return _page(account, site_tenant(), ".mine")


@bp.route("/users/<user_id>/forwarding", methods=["GET", "POST"])
@roles_required("company_admin", "operator")
def for_user(user_id: str) -> Any:
    """An admin sets the forwarding of any user of the company."""
    user = scoped_user(user_id)
    return _page(user, site_tenant(), ".for_user", user_id=user.id)


def _page(user: User, tenant: Tenant, endpoint: str, **where: Any) -> Any:
    form = Form(request.form if request.method == "POST" else request.args)
    if request.method == "POST":
        done = _save(user, tenant, form, endpoint, where)
        if done is not None:
            return done
    rules = {rule.kind: rule for rule in forwarding.rules_of(db(), user.id)}
    return render_form(
        "site/forwarding.html",
        form,
        person=user,
        rules=rules,
        kinds=forwarding.KINDS,
        editing=form.text("kind"),
        own=user.id == current_account().id,
        block=open_block(db(), user.id),
    )


def _save(
    user: User, tenant: Tenant, form: Form, endpoint: str, where: dict[str, Any]
) -> Response | None:
    """Apply the posted change; None means: show the form again with its errors."""
    kind, here = form.text("kind"), url_for(endpoint, **where)
    try:
        if form.text("action") == "remove":
            forwarding_review.remove_forwarding(db(), actor(), user, _review_link, kind)
            flash(_notified(user, removed=True), "success")
            return redirect(here)
        destination, ring = form.text("destination").strip(), form.integer("ring_seconds", 20)
        active = form.text("active") == "on"
        if ring is None or not form.ok:
            return None
        e164 = forwarding_review.external_destination(tenant, destination)
        if e164 and not recently_reauthenticated():
            state = {"kind": kind, "destination": e164, "ring_seconds": ring}
            state["active"] = "on" if active else "off"
            return _reauth_first(url_for(endpoint, **where, **state))
        forwarding_review.change_forwarding(
            db(), actor(), user, _review_link, kind=kind, destination=destination,
            ring_seconds=ring, active=active,
        )  # fmt: skip
    except ValidationError as exc:
        form.fail(exc)
        return None
    flash(_notified(user, removed=False), "success")
    return redirect(here)


def _notified(user: User, *, removed: bool) -> str:
    """The flash after a change; a person changing their own forwarding is "you"."""
    if user.id == current_account().id:
        if removed:
            return _("Forwarding removed. You have been notified.")
        return _("Forwarding saved. You have been notified.")
    if removed:
        return _("Forwarding removed. %(name)s has been notified.", name=user.name)
    return _("Forwarding saved. %(name)s has been notified.", name=user.name)


def _reauth_first(back: str) -> Response:
    return reauth_pending.ask(back, _("Confirm it is you to forward to an external number."))


def _review_link(token: str) -> str:
    return accounts_config().public_url + url_for("site_forwarding.review", token=token)


@bp.route("/forwarding/review/<token>", methods=["GET", "POST"])
@rate_limit("30 per minute; 200 per hour", methods=("GET", "POST"))
def review(token: str) -> Any:
    """The owner's link from the notification: see the change, undo it if it wasn't them."""
    notice = forwarding_review.open_notice(db(), token)
    if request.method == "GET":
        changed_by = (
            db().get(User, notice.changed_by_user_id) if notice.changed_by_user_id else None
        )
        return render_template("site/forwarding_review.html", notice=notice, changed_by=changed_by)
    result = forwarding_review.report_change(db(), token, client_ip(), suspend_user)
    return render_template("site/forwarding_reported.html", result=result)
