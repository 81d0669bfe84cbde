"""Organisation / company settings (call-log retention), Säkerhet / allowed countries
(adding a country needs re-authentication, SECURITY.md 16), and the operator's choice of the
company to administer."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from admin_web import reauth_pending
from admin_web.auth import recently_reauthenticated, roles_required
from admin_web.db import db
from admin_web.destination_text import country_name
from admin_web.i18n import gettext as _
from admin_web.views.site_common import (
    OPERATOR_TENANT_KEY,
    Form,
    actor,
    render_form,
    site_tenant,
)
from pbx.errors import ValidationError
from pbx.services.common.scope import get_scoped
from pbx.services.tenants import companies as tenants
from pbx.services.tenants import settings as tenant_settings
from storage.models import Tenant

bp = Blueprint("site_company", __name__, url_prefix="/company")


@bp.app_template_filter("country")
def country(code: str) -> str:
    """'NO – Norge': the ISO code a person types, beside the country's name in the page's
    language (Babel's territory names)."""
    return f"{code} – {country_name(code)}"


@bp.route("/", methods=["GET", "POST"])
@roles_required("company_admin", "operator")
def settings() -> Any:
    """The company's settings: name and numbers (read only) and call-log retention."""
    tenant = site_tenant()
    form = Form(request.form)
    if request.method == "POST":
        days = form.integer("calllog_retention_days")
        try:
            if days is None:
                raise ValidationError("calllog_retention_days", "Enter a whole number.")
            tenant_settings.set_retention(db(), actor(), tenant, days)
            flash(_("Saved."), "success")
            return redirect(url_for(".settings"))
        except ValidationError as exc:
            form.fail(exc)
    return render_form("site/company.html", form, tenant=tenant)


@bp.route("/countries", methods=["GET", "POST"])
@roles_required("company_admin", "operator")
def countries() -> Any:
    """Countries international forwarding may reach; the home country is always allowed."""
    tenant = site_tenant()
    form = Form(request.values)
    if request.method == "POST":
        try:
            codes = tenant_settings.region_codes(form.text("countries"))
            added = tenant_settings.added_countries(tenant, codes)
            if added and not recently_reauthenticated():
                back = url_for(".countries", countries=" ".join(codes))
                return reauth_pending.ask(back, _("Confirm it is you to add a country."))
            tenant_settings.set_allowed_countries(db(), actor(), tenant, codes)
            flash(_("Saved."), "success")
            return redirect(url_for(".countries"))
        except ValidationError as exc:
            form.fail(exc)
    shown = form.text("countries", " ".join(tenant.allowed_countries))
    return render_form("site/countries.html", form, tenant=tenant, shown=shown)


@bp.get("/choose")
@roles_required("operator")
def choose() -> str:
    """Operators: pick the company to administer."""
    return render_template("site/choose_company.html", companies=tenants.list_tenants(db()))


@bp.post("/choose")
@roles_required("operator")
def chosen() -> Response:
    tenant = get_scoped(db(), actor(), Tenant, request.form.get("tenant_id", ""))
    session[OPERATOR_TENANT_KEY] = tenant.id
    flash(_("You are now administering %(name)s.", name=tenant.name), "success")
    return redirect(url_for(".settings"))


@bp.post("/voicemail-pin")
@roles_required("company_admin", "operator")
def voicemail_pin() -> Any:
    """Whether 333 asks for the PIN of callers known only by their calling number; turning the
    PIN off weakens every mailbox of the company, so it needs re-authentication."""
    tenant = site_tenant()
    trust = request.form.get("trust_calling_number") == "1"
    if trust and not tenant.voicemail_trust_calling_number and not recently_reauthenticated():
        reason = _("Confirm it is you to turn the voicemail PIN off.")
        return reauth_pending.ask(url_for(".settings"), reason)
    tenant_settings.set_trust_calling_number(db(), actor(), tenant, trust)
    flash(_("Saved."), "success")
    return redirect(url_for(".settings"))
