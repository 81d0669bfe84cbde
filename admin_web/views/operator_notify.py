"""Notification and recovery from the operator console: affected callers of chosen companies
in a window (CSV — numbers, counts, first and last call, never a company — and the letter to
each caller), and the recovery dashboard of a company after media loss, with the notice to
its admins of what is left to re-record."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, flash, redirect, request, url_for

from admin_web.auth import reauth_required, roles_required
from admin_web.db import db, runtime
from admin_web.i18n import gettext as _
from admin_web.i18n import ngettext
from admin_web.security_headers import no_store
from admin_web.views.operator_forms import (
    parse_window,
    tenant_choices,
    tenant_of_form,
    tenants_of_form,
)
from admin_web.views.site_common import Form, actor, render_form
from pbx.incident import callers, letters, loss_record, mailer, recovery, rerecord
from pbx.policies.fraud_rules import ZONE
from storage.db import read_snapshot

bp = Blueprint("operator_notify", __name__, url_prefix="/operator")


no_store(bp)


@bp.get("/affected-callers")
@roles_required("operator")
def affected() -> Any:
    """The form: affected companies and the window."""
    return render_form("incident/affected.html", None, tenants=tenant_choices())


def _chosen(form: Form) -> tuple[list[int], datetime, datetime] | None:
    companies = tenants_of_form(form, request.form.getlist("tenants"))
    since, until = parse_window(form, default_days=6)
    if not form.ok:
        return None
    return [t.id for t in companies], since, until


@bp.post("/affected-callers")
@roles_required("operator")
@reauth_required
def export() -> Any:
    """CSV of the callers (audited: companies, window, count)."""
    form = Form(request.form)
    chosen = _chosen(form)
    if chosen is None:
        return render_form("incident/affected.html", form, tenants=tenant_choices())
    _, text = callers.export(db(), actor(), *chosen)
    stamp = datetime.now(ZONE).strftime("%Y%m%d-%H%M")
    return Response(
        "\ufeff" + text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="berorda-uppringare-{stamp}.csv"'},
    )


@bp.post("/affected-callers/letters")
@roles_required("operator")
@reauth_required
def queue_letters() -> Any:
    """First the letter as a caller reads it and how many go out; on confirmation the notice
    to each caller, into the outbox (and out by SMTP when configured)."""
    form = Form(request.form)
    chosen = _chosen(form)
    if chosen is None:
        return render_form("incident/affected.html", form, tenants=tenant_choices())
    ids, since, until = chosen
    found = callers.affected_callers(db(), ids, since, until)
    if form.text("confirm") != "yes":
        shown = letters.preview(db(), found, since, until)
        names = [name for slug, name in tenant_choices() if slug in request.form.getlist("tenants")]
        return render_form("incident/letters_preview.html", form, letter=shown, companies=names)
    count = letters.queue_letters(db(), actor(), found, since, until)
    smtp = runtime().settings.smtp_url
    sent = mailer.send_outbox(db(), smtp, kinds=[letters.KIND]).sent if smtp else 0
    flash(_("%(n)s letter(s) queued, %(sent)s sent.", n=count, sent=sent), "success")
    return redirect(url_for("operator_notify.affected"))


@bp.get("/recovery")
@roles_required("operator")
def recovery_page() -> Any:
    """A company's media: lost, restored, regenerated, re-recorded, still missing."""
    form = Form(request.args)
    tenant = tenant_of_form(form, required=False)
    board = None
    if tenant is not None:
        days = form.integer("days", 7) or 7
        since = datetime.now(ZONE) - timedelta(days=max(1, min(days, 365)))
        read_snapshot(db())  # the media scan streams every reference of the company
        blobs = runtime().blobs(db())
        lost = loss_record.lost_since(db(), blobs, tenant, since)
        board = recovery.dashboard(db(), blobs, tenant, since, lost)
    return render_form(
        "incident/recovery.html", form, board=board, tenant=tenant, tenants=tenant_choices()
    )


@bp.post("/recovery/notify")
@roles_required("operator")
def notify() -> Any:
    """Tell the company's admins what they still have to re-record."""
    form = Form(request.form)
    tenant = tenant_of_form(form)
    if tenant is None:
        return redirect(url_for("operator_notify.recovery_page"))
    since = datetime.now(ZONE) - timedelta(days=7)
    blobs = runtime().blobs(db())
    lost = loss_record.lost_since(db(), blobs, tenant, since)
    board = recovery.dashboard(db(), blobs, tenant, since, lost)
    told = rerecord.notify_admins(db(), actor(), tenant, board)
    flash(
        ngettext(
            "%(n)s admin told what to re-record.", "%(n)s admins told what to re-record.", told
        ),
        "success",
    )
    return redirect(url_for("operator_notify.recovery_page", tenant=tenant.slug))
