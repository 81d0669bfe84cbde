"""Organisation / Nummer for the operator: give the company a number, take one away (refused
while it is the only way into a menu or queue in use, naming them). The list itself, with
where every number leads, is site_numbers.index."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from admin_web.auth import roles_required
from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.views import site_numbers
from admin_web.views.site_common import Form, actor, site_tenant
from admin_web.views.site_targets import parse_target
from pbx.errors import Conflict, NotFound, ValidationError
from pbx.services.common.scope import get_scoped
from pbx.services.routing import number_admin
from storage.models import PhoneNumber

bp = Blueprint("site_number_admin", __name__, url_prefix="/numbers")
KINDS = ("ivr", "queue", "user", "voicemail")
CUT_OFF_KINDS = {"ivr": "IVR menu", "queue": "Queue"}


@bp.post("/add")
@roles_required("operator")
def add() -> Any:
    """A new number for the administered company, with its first destination."""
    tenant = site_tenant()
    form = Form(request.form)
    try:
        target = parse_target(form, "target", KINDS)
        if form.ok:
            number = number_admin.assign_number(db(), actor(), tenant, form.text("e164"), target,
                                                form.text("label"))  # fmt: skip
            flash(_("%(number)s is added.", number=number.e164), "success")
            return redirect(url_for("site_numbers.index"))
    except ValidationError as exc:
        form.fail(exc)
    except Conflict:
        form.errors["e164"] = _("The number is already in use.")
    return site_numbers.show(form)  # the list again, with this form's errors


@bp.post("/<number_id>/remove")
@roles_required("operator")
def remove(number_id: str) -> Response:
    """Take a number away from the company (not the only way into something in use)."""
    tenant = site_tenant()
    number = get_scoped(db(), actor(), PhoneNumber, number_id)
    if number.tenant_id != tenant.id:
        raise NotFound(f"PhoneNumber {number_id} not found")
    try:
        number_admin.remove_number(db(), actor(), number)
    except number_admin.NumberInUse as exc:
        names = ", ".join(f"{_(CUT_OFF_KINDS[kind])} “{name}”" for kind, name in exc.cut_off)
        flash(_("%(number)s is the only way into %(names)s: route something else there first.",
                number=number.e164, names=names), "error")  # fmt: skip
        return redirect(url_for("site_numbers.index"))
    flash(_("%(number)s is removed.", number=number.e164), "success")
    return redirect(url_for("site_numbers.index"))
