"""Organisation / Knappval: IVR menus. A menu's prompt, invalid-input message, timeout and
retries; its keys (0–9, #; `t` is where a caller goes after the timeout; * repeats the menu)
each leading to a user, voicemail, queue, another menu or an external number (the same fraud
guard and re-authentication as forwarding), and, when routed by opening hours, the closed
branch of a key (the closed message, then another destination; `hours.set_closed_branch`,
as for numbers). The domain's errors show next to their field."""

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
from pbx.errors import NotFound, ValidationError
from pbx.services.library import slots
from pbx.services.routing import hours, ivr
from pbx.services.routing.targets import Target, load_target
from storage.models import IvrMenu, IvrOption, Tenant

bp = Blueprint("site_ivr", __name__, url_prefix="/ivr")
KEY_KINDS = ("user", "voicemail", "queue", "ivr", "external", "hangup")
KEYS = ivr.OPTION_KEYS


@bp.get("/")
@roles_required("company_admin", "operator")
def index() -> Any:
    """The company's IVR menus and a form for a new one."""
    tenant = site_tenant()
    menus = [(m, ivr.options_of(db(), m.id)) for m in ivr.list_menus(db(), tenant.id)]
    return render_form("site/ivr_list.html", Form({}), menus=menus)


@bp.post("/")
@roles_required("company_admin", "operator")
def create() -> Any:
    tenant = site_tenant()
    form = Form(request.form)
    try:
        menu = ivr.create_menu(db(), actor(), tenant, name=form.text("name"), prompt_slot_id=None)
    except ValidationError as exc:
        form.fail(exc)
        menus = [(m, ivr.options_of(db(), m.id)) for m in ivr.list_menus(db(), tenant.id)]
        return render_form("site/ivr_list.html", form, menus=menus)
    flash(_("Menu created. Choose its prompt and keys."), "success")
    return redirect(url_for(".edit", menu_id=menu.id))


@bp.route("/<menu_id>", methods=["GET", "POST"])
@roles_required("company_admin", "operator")
def edit(menu_id: str) -> Any:
    """A menu's settings (POST here) and its keys (POSTed to .keys)."""
    tenant = site_tenant()
    menu = site_object(IvrMenu, menu_id, tenant)
    form = Form(request.form)
    if request.method == "POST":
        try:
            ivr.update_menu(db(), actor(), tenant, menu, **_settings(form))
            flash(_("Saved."), "success")
            return redirect(url_for(".edit", menu_id=menu.id))
        except ValidationError as exc:
            form.fail(exc)
    return _page(tenant, menu, settings_form=form, key_form=Form(request.args))


def _settings(form: Form) -> dict[str, Any]:
    timeout, retries = form.integer("timeout_seconds"), form.integer("max_retries")
    for name, value in (("timeout_seconds", timeout), ("max_retries", retries)):
        if value is None:
            raise ValidationError(name, "Enter a whole number.")
    return {
        "name": form.text("name"),
        "prompt_slot_id": form.optional_id("prompt_slot_id"),
        "invalid_slot_id": form.optional_id("invalid_slot_id"),
        "timeout_seconds": timeout,
        "max_retries": retries,
    }


def _page(tenant: Tenant, menu: IvrMenu, *, settings_form: Form, key_form: Form) -> Any:
    options = ivr.options_of(db(), menu.id)
    found = choices(tenant, KEY_KINDS)
    editing = key_form.text("digit")
    option = next((o for o in options if o.digit == editing), None)
    current = load_target(option, "target") if option is not None else Target("user")
    html, status = render_form(
        "site/ivr_edit.html",
        settings_form,
        key_form=key_form,
        menu=menu,
        options=[(o, load_target(o, "target"), _closed_of(o)) for o in options],
        choices=found,
        names=_names(found),
        slots=slots.prompt_slots(db(), tenant.id),
        keys=KEYS,
        current=current,
        editing=editing if key_form.text("mode") == "change" else "",
        **_closed_fields(key_form, option),
    )
    return html, 422 if key_form.errors else status


def _closed_of(option: IvrOption) -> Target | None:
    return load_target(option, "closed") if option.closed_kind is not None else None


def _closed_fields(key_form: Form, option: IvrOption | None) -> dict[str, Any]:
    """The key form's closed branch: as submitted (a POST, or back from re-authentication),
    else as the key being changed has it."""
    stored = _closed_of(option) if option is not None else None
    if request.method == "POST" or "by_hours" in key_form.values:
        by_hours = key_form.text("by_hours") == "1"
        slot = key_form.text("closed_slot_id")
    else:
        by_hours = stored is not None
        slot = str(option.closed_slot_id or "") if option is not None else ""
    return {
        "by_hours": by_hours,
        "closed_slot": slot,
        "closed_current": stored or Target("voicemail"),
    }


def _names(found: Any) -> dict[str, dict[int, str]]:
    users = dict(found.users)
    return {
        "user": users,
        "voicemail": users,
        "ivr": dict(found.menus),
        "queue": dict(found.queues),
    }


@bp.post("/<menu_id>/keys")
@roles_required("company_admin", "operator")
def keys(menu_id: str) -> Any:
    """Add a key (a key already in use is refused) or change where a key leads."""
    tenant = site_tenant()
    menu = site_object(IvrMenu, menu_id, tenant)
    form = Form(request.form)
    done = _save_key(tenant, menu, form)
    if done is not None:
        return done
    return _page(tenant, menu, settings_form=Form({}), key_form=form)


def _save_key(tenant: Tenant, menu: IvrMenu, form: Form) -> Response | None:
    digit, mode = form.text("digit"), form.text("mode", "add")
    try:
        target = parse_target(form, "target", KEY_KINDS)
        closed = parse_target(form, "closed", KEY_KINDS) if form.text("by_hours") == "1" else None
        if needs_reauth(tenant, target, "target") or (
            closed is not None and needs_reauth(tenant, closed, "closed")
        ):
            return reauth_first(url_for(".edit", menu_id=menu.id, **_kept(form)))
        if mode == "change":
            option = ivr.change_option(db(), actor(), tenant, menu, digit, target)
        else:
            option = ivr.set_option(db(), actor(), tenant, menu, digit, target)
        slot = form.optional_id("closed_slot_id")
        hours.set_closed_branch(db(), actor(), tenant, option, closed, slot)
    except ValidationError as exc:
        form.fail(exc)
        return None
    flash(_("Key %(digit)s saved.", digit=digit), "success")
    return redirect(url_for(".edit", menu_id=menu.id))


def _kept(form: Form) -> dict[str, str]:
    """The key form's values carried through re-authentication (not the ids of the company's
    users, menus and queues: those are chosen again from the lists)."""
    keep = ("digit", "mode", "target_kind", "target_external")
    closed = ("by_hours", "closed_kind", "closed_external", "closed_slot_id")
    return {k: form.text(k) for k in (*keep, *closed)}


@bp.post("/<menu_id>/keys/<digit>/remove")
@roles_required("company_admin", "operator")
def remove_key(menu_id: str, digit: str) -> Response:
    tenant = site_tenant()
    menu = site_object(IvrMenu, menu_id, tenant)
    try:
        ivr.remove_option(db(), actor(), tenant, menu, digit)
    except ValidationError:
        raise NotFound(f"key {digit} not in menu {menu.id}") from None
    flash(_("Key %(digit)s removed.", digit=digit), "success")
    return redirect(url_for(".edit", menu_id=menu.id))
