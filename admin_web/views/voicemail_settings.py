"""Mina inställningar / Röstbrevlåda: the signed-in user's 333 PIN (set, or changed with the
current one), greeting-only, and new messages by e-mail (audio attached or a link); and the
company admins' PIN reset on a user's page (the owner then chooses a new one)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from admin_web.auth import accounts_config, current_account, roles_required
from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.views.site_common import Form, actor, error_text, render_form, site_tenant
from pbx.errors import NotFound, ValidationError
from pbx.services.common.scope import get_scoped
from pbx.services.people import voicemail_settings
from storage.models import User

bp = Blueprint("voicemail_settings", __name__)
PEOPLE = ("company_admin", "user")


@bp.get("/my/voicemail/settings")
@roles_required(*PEOPLE)
def mine() -> Any:
    """The PIN, greeting-only and e-mail settings of the signed-in user's mailbox."""
    return _page()


def _page(pin_form: Form | None = None) -> Any:
    try:
        settings = voicemail_settings.settings_of(db(), current_account())
    except NotFound:
        settings = None
    return render_form("site/voicemail_settings.html", pin_form, settings=settings,
                       choices=voicemail_settings.EMAIL_CHOICES)  # fmt: skip


@bp.post("/my/voicemail/settings")
@roles_required(*PEOPLE)
def save() -> Any:
    """Greeting-only and e-mail on new messages (an unknown choice is a form error)."""
    form = Form(request.form)
    try:
        voicemail_settings.update(
            db(), actor(), current_account(),
            greeting_only=form.text("greeting_only") == "1",
            email_notify=form.text("email_notify"),
        )  # fmt: skip
    except ValidationError as exc:
        form.errors[exc.field] = error_text(exc)
        return _page(form)
    flash(_("Saved."), "success")
    return redirect(url_for(".mine"))


@bp.post("/my/voicemail/pin")
@roles_required(*PEOPLE)
def pin() -> Any:
    """Set or change the PIN (the current one first, when there is one)."""
    form = Form(request.form)
    new = form.text("new_pin")
    if new != form.text("confirm_pin"):
        form.errors["confirm_pin"] = _("The two PINs differ.")
        return _page(form)
    try:
        profile = accounts_config().hash_profile
        voicemail_settings.change_pin(
            db(), actor(), current_account(), new, form.text("current_pin"), profile
        )
    except ValidationError as exc:
        form.errors["current_pin" if exc.field == "current_pin" else "new_pin"] = error_text(exc)
        return _page(form)
    flash(_("Your voicemail PIN is saved."), "success")
    return redirect(url_for(".mine"))


@bp.post("/users/<user_id>/voicemail-pin/reset")
@roles_required("company_admin", "operator")
def reset(user_id: str) -> Response:
    """An admin clears a user's forgotten PIN; the user chooses a new one on the site."""
    tenant = site_tenant()
    user = get_scoped(db(), actor(), User, user_id)
    if user.tenant_id != tenant.id:
        raise NotFound(f"User {user_id} not found")
    voicemail_settings.reset_pin(db(), actor(), user)
    flash(_("The voicemail PIN of %(name)s is reset; they choose a new one.", name=user.name),
          "success")  # fmt: skip
    return redirect(url_for("site_users.edit", user_id=user.id))
