"""Återuppringning: received voicemail whose audio was lost, with caller and time, so the
company can call back (the second notice: a missed cancellation). A company admin sees the
company's list by user, a user their own; the CSV (full numbers) is for admins, after
re-authentication, and audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, render_template

from admin_web.auth import login_required, reauth_required, roles_required
from admin_web.db import db, runtime
from admin_web.security_headers import no_store
from admin_web.views.site_common import actor, site_tenant
from pbx.incident import callbacks
from pbx.policies.fraud_rules import ZONE

bp = Blueprint("callbacks", __name__, url_prefix="/callbacks")


no_store(bp)


@bp.get("/")
@login_required
def index() -> Any:
    """The call-back list, grouped by user."""
    rows = callbacks.lost_voicemail(db(), runtime().blobs(db()), actor(), site_tenant())
    return render_template(
        "incident/callbacks.html",
        groups=callbacks.by_user(rows),
        can_export=actor().role != "user",
    )


@bp.post("/export")
@roles_required("company_admin", "operator")
@reauth_required
def export() -> Response:
    text = callbacks.export(db(), runtime().blobs(db()), actor(), site_tenant())
    stamp = datetime.now(ZONE).strftime("%Y%m%d-%H%M")
    return Response(
        "\ufeff" + text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="ateruppringning-{stamp}.csv"'},
    )
