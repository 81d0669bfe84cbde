"""The operator's media recovery finishes in the browser (issue 16 item 3): restore one
company's (or every company's) missing media from the newest verified backup.

What is missing is recorded first (`pbx.incident.loss_record`), so the recovery table keeps
counting it as lost and restored afterwards.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from admin_web.auth import roles_required
from admin_web.db import db, runtime
from admin_web.i18n import gettext as _
from admin_web.i18n import ngettext
from admin_web.security_headers import no_store
from admin_web.views.operator_forms import tenant_of_form
from admin_web.views.site_common import Form, actor
from pbx.incident import loss_record
from pbx.services.backups.newest import restore_missing
from pbx.services.tenants.companies import list_tenants
from storage.backups.store import BackupStore
from storage.models import Tenant, utcnow

bp = Blueprint("operator_restore", __name__, url_prefix="/operator")
no_store(bp)
EVERY = "*"


@bp.post("/recovery/restore")
@roles_required("operator")
def restore() -> Response:
    """Missing-only restore from the newest backup that verifies; the result as a message."""
    form = Form(request.form)
    every = form.text("tenant") == EVERY
    tenant = None if every else tenant_of_form(form)
    if tenant is None and not every:
        flash(_("Choose a company."), "error")
        return redirect(url_for("operator_notify.recovery_page"))
    tenants = list(list_tenants(db())) if every else [tenant]
    done = _restore([t for t in tenants if t is not None], every)
    back = url_for("operator_notify.recovery_page", tenant=None if every else form.text("tenant"))
    flash(done[0], done[1])
    return redirect(back)


def _restore(tenants: list[Tenant], every: bool) -> tuple[str, str]:
    settings, blobs = runtime().settings, runtime().blobs(db())
    since = utcnow() - timedelta(days=365)
    for tenant in tenants:
        loss_record.record_losses(db(), blobs, actor(), tenant, since)
    store = BackupStore.open(settings.backup_dir, live_blob_dir=settings.blob_dir)
    pg = settings.database_url if settings.database_url.startswith("postgresql") else None
    ids = None if every else [t.id for t in tenants]
    result = restore_missing(db(), blobs, actor(), store, ids, pg_server_url=pg)
    if result.backup_id is None:
        return _("No backup passes verification: nothing was restored."), "error"
    text = ngettext(
        "%(n)s missing file restored from backup %(backup)s (verified).",
        "%(n)s missing files restored from backup %(backup)s (verified).",
        result.blobs_restored,
        backup=result.backup_id,
    )
    return text, "success" if result.ok else "warning"
