"""Organisation / Nummer: which number goes to which IVR menu, queue or user, and its
welcome message. An external destination needs re-authentication, like forwarding."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from admin_web.auth import roles_required
from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.views.site_common import (
    Form,
    actor,
    needs_reauth,
    reauth_first,
    render_form,
    site_object,
    site_tenant,
)
from admin_web.views.site_targets import choices, parse_target
from pbx.errors import ValidationError
from pbx.services.library import slots
from pbx.services.routing import number_admin, numbers
from pbx.services.routing.targets import load_target
from storage.models import PhoneNumber, Tenant

bp = Blueprint("site_numbers", __name__, url_prefix="/numbers")
NUMBER_KINDS = ("ivr", "queue", "user", "voicemail", "external")
ADD_KINDS = ("ivr", "queue", "user", "voicemail")  # a new number: inside the company first


@bp.get("/")
@roles_required("company_admin", "operator")
def index() -> Any:
    """The company's numbers and where each one leads (menu keys and overflows too)."""
    return show()


def show(add_form: Form | None = None) -> Any:
    """The list; for the operator also the form to add a number (`add_form`: its errors)."""
    tenant = site_tenant()
    found = numbers.list_numbers(db(), tenant.id)
    rows = [(n, load_target(n, "target")) for n in found]
    names = choices(tenant, NUMBER_KINDS)
    leads = {n.id: number_admin.leads_of(db(), n) for n in found}
    return render_form("site/numbers.html", add_form, rows=rows, names=_names(names),
                       leads=leads, add_choices=choices(tenant, ADD_KINDS))  # fmt: skip


def _names(found: Any) -> dict[str, dict[int, str]]:
    return {
        "user": dict(found.users),
        "voicemail": dict(found.users),
        "ivr": dict(found.menus),
        "queue": dict(found.queues),
    }


@bp.route("/<number_id>", methods=["GET", "POST"])
@roles_required("company_admin", "operator")
def edit(number_id: str) -> Any:
    """Route one number (and choose its welcome message)."""
    tenant = site_tenant()
    number = site_object(PhoneNumber, number_id, tenant)
    form = Form(request.form if request.method == "POST" else request.args)
    if request.method == "POST":
        done = _save(tenant, number, form)
        if done is not None:
            return done
    return render_form(
        "site/number_edit.html",
        form,
        number=number,
        current=load_target(number, "target"),
        choices=choices(tenant, NUMBER_KINDS),
        slots=slots.prompt_slots(db(), tenant.id),
    )


def _save(tenant: Tenant, number: PhoneNumber, form: Form) -> Response | None:
    welcome = form.optional_id("welcome_slot_id")
    try:
        target = parse_target(form, "target", NUMBER_KINDS)
        if needs_reauth(tenant, target, "target"):
            state = {k: form.text(k) for k in ("target_kind", "target_external", "welcome_slot_id")}
            return reauth_first(url_for(".edit", number_id=number.id, **state))
        if form.ok:
            numbers.route_number(db(), actor(), tenant, number, target, welcome)
            flash(_("Saved."), "success")
            return redirect(url_for(".index"))
    except ValidationError as exc:
        form.fail(exc)
    return None
