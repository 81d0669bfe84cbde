"""The operator console (role operator only): fraud alerts with their figures, suspended
forwarding, the incident register's deadlines; run the fraud scan, dismiss or contain an
alert, lift a suspension. Containment commands, affected callers and recovery have pages of
their own (`operator_contain`, `operator_notify`).

Object ids travel in forms, not in paths: these objects are the operator's, not a company's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from admin_web.auth import accounts_config, reauth_required, roles_required
from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.i18n import ngettext
from admin_web.security_headers import no_store
from admin_web.views.site_common import Form, actor, error_text
from pbx.errors import NotFound, ValidationError
from pbx.incident import alerts, assessment, containment, register
from pbx.incident.scan import scan
from storage.models import ForwardingBlock, User, utcnow

bp = Blueprint("operator", __name__, url_prefix="/operator")


no_store(bp)


def form_id(form: Form, name: str) -> int:
    value = form.integer(name)
    if value is None:
        raise NotFound(f"no {name}")
    return value


@bp.get("/")
@roles_required("operator")
def index() -> str:
    """Open alerts, suspended forwarding and incident deadlines at a glance."""
    status = request.args.get("status", "open")
    rows = alerts.list_alerts(db(), actor(), status=None if status == "all" else status)
    blocks = (
        db()
        .execute(
            select(ForwardingBlock, User)
            .join(User, User.id == ForwardingBlock.user_id)
            .where(ForwardingBlock.lifted_at.is_(None))
            .order_by(ForwardingBlock.id.desc())
        )
        .all()
    )
    incidents = [
        (i, assessment.pts_deadline(i)) for i in register.list_incidents(db(), actor())[:10]
    ]
    return render_template(
        "incident/console.html", rows=rows, blocks=blocks, incidents=incidents, status=status
    )


@bp.post("/scan")
@roles_required("operator")
def run_scan() -> Response:
    """The fraud rules over the last day; above a hard cap the account is contained."""
    result = scan(db(), actor(), utcnow() - timedelta(days=1), config=accounts_config())
    flash(
        ngettext(
            "Scan done: %(alerts)s new alert(s), %(n)s account contained.",
            "Scan done: %(alerts)s new alert(s), %(n)s accounts contained.",
            len(result.contained),
            alerts=len(result.new_alerts),
        ),
        "success",
    )
    return redirect(url_for("operator.index"))


@bp.post("/alerts/dismiss")
@roles_required("operator")
def dismiss() -> Any:
    """Close an alert as a false alarm, with the reason."""
    form = Form(request.form)
    try:
        alerts.dismiss(db(), actor(), form_id(form, "alert_id"), form.text("note"))
    except ValidationError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("operator.index"))
    flash(_("The alert is dismissed."), "success")
    return redirect(url_for("operator.index"))


@bp.post("/alerts/contain")
@roles_required("operator")
@reauth_required
def contain() -> Response:
    """Contain the accounts behind an alert: revert, suspend forwarding, sign out, reset."""
    done = alerts.contain(db(), accounts_config(), actor(), form_id(Form(request.form), "alert_id"))
    flash(ngettext("%(n)s account contained.", "%(n)s accounts contained.", len(done)), "success")
    return redirect(url_for("operator.index"))


@bp.post("/blocks/lift")
@roles_required("operator")
@reauth_required  # it lets calls go to outside numbers again (SECURITY.md 16)
def lift() -> Response:
    """Switch an account's outside forwarding back on (exactly the rules the block took)."""
    user = db().get(User, form_id(Form(request.form), "user_id"))
    if user is None:
        raise NotFound("no such account")
    containment.lift_block(db(), actor(), user)
    flash(_("Forwarding of %(name)s is back on.", name=user.name), "success")
    return redirect(url_for("operator.index"))
