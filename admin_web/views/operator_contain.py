"""Containment from the operator console: suspend accounts (a list, or a whole company),
reset the passwords of one company or of every customer, and every forwarding change in a
window — who, from which IP, old → new — reverted in one action. Each action asks for
re-authentication and is audited by the services."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from admin_web.audit_words import forwarding_state
from admin_web.auth import accounts_config, reauth_required, roles_required
from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.i18n import ngettext
from admin_web.request_values import parse_id
from admin_web.security_headers import no_store
from admin_web.views.operator_forms import parse_window, tenant_choices, tenant_of_form
from admin_web.views.site_common import Form, actor, render_form
from pbx.incident import forwarding_changes, response

bp = Blueprint("operator_contain", __name__, url_prefix="/operator")
FILTER = ("since", "until", "tenant", "ip")  # the forwarding changes' filter fields
no_store(bp)


@bp.get("/contain")
@roles_required("operator")
def index() -> Any:
    """The suspend and reset forms."""
    return render_form("incident/contain.html", None, tenants=tenant_choices())


@bp.post("/suspend")
@roles_required("operator")
@reauth_required
def suspend() -> Any:
    form = Form(request.form)
    tenant = tenant_of_form(form, required=False)
    emails = form.text("emails").replace(",", "\n").split()
    if tenant is None and not emails:
        form.errors["emails"] = _("Give e-mail addresses or choose a company.")
        return render_form("incident/contain.html", form, tenants=tenant_choices())
    if tenant is not None:
        report = response.suspend_tenant(db(), actor(), tenant)
    else:
        report = response.suspend_accounts(db(), actor(), emails)
    flash(
        ngettext(
            "%(n)s account suspended, %(already)s already suspended, %(unknown)s unknown.",
            "%(n)s accounts suspended, %(already)s already suspended, %(unknown)s unknown.",
            len(report.suspended),
            already=len(report.already),
            unknown=len(report.unknown),
        ),
        "success",
    )
    return redirect(url_for("operator_contain.index"))


@bp.post("/reset-passwords")
@roles_required("operator")
@reauth_required
def reset_passwords() -> Any:
    """One company, or (with the confirmation typed) every customer."""
    form = Form(request.form)
    tenant = tenant_of_form(form, required=False)
    if tenant is None and form.text("confirm") != "ALLA":
        form.errors["confirm"] = _("Type ALLA to reset every customer's passwords.")
        return render_form("incident/contain.html", form, tenants=tenant_choices())
    links = response.reset_passwords(db(), accounts_config(), actor(), tenant)
    flash(
        ngettext(
            "%(n)s account must choose a new password; link sent.",
            "%(n)s accounts must choose a new password; links sent.",
            len(links),
        ),
        "success",
    )
    return redirect(url_for("operator_contain.index"))


@bp.get("/forwarding")
@roles_required("operator")
def forwarding() -> Any:
    """Forwarding changes in a window (default: the last day), filtered by company and IP."""
    form = Form(request.args)
    since, until = parse_window(form, default_days=1)
    tenant = tenant_of_form(form, required=False)
    rows: list[forwarding_changes.ChangeRow] = []
    if form.ok:
        rows = forwarding_changes.list_changes(
            db(),
            since,
            until,
            tenant_ids=[tenant.id] if tenant else None,
            ip=form.text("ip").strip() or None,
        )
    return render_form(
        "incident/forwarding.html",
        form,
        rows=rows,
        tenants=tenant_choices(),
        describe=partial(forwarding_state, _),
    )


@bp.post("/forwarding/revert")
@roles_required("operator")
@reauth_required
def revert() -> Response:
    """Undo the ticked changes in one action."""
    ids = [i for i in map(parse_id, request.form.getlist("event_id")) if i is not None]
    back = url_for("operator_contain.forwarding", **_filter_of(request.form))
    if not ids:
        flash(_("Tick at least one change."), "error")
        return redirect(back)
    report = response.revert_forwarding(db(), actor(), ids)
    flash(_reverted_text(len(report.reverted), len(report.skipped)), "success")
    return redirect(back)


def _reverted_text(reverted: int, skipped: int) -> str:
    put_back = ngettext("%(n)s rule put back.", "%(n)s rules put back.", reverted)
    if not skipped:
        return put_back
    left = ngettext(
        "%(n)s left alone (changed again since).",
        "%(n)s left alone (changed again since).",
        skipped,
    )
    return f"{put_back} {left}"


def _filter_of(values: Any) -> dict[str, str]:
    """The list's filter the form carried: back to the same window, company and IP."""
    kept = {name: str(values.get(name, "")).strip() for name in FILTER}
    return {name: value for name, value in kept.items() if value}
