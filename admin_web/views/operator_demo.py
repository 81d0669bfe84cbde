"""Spela upp incidenten: the two incidents played in the demo site (issue 16 item 2).

Only in demo mode (`PBX_MODE=demo`, what `pbx demo` sets): in production and tests every
route here is a 404, so nothing on a real switchboard can delete media or fake an attack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from admin_web.auth import roles_required
from admin_web.db import runtime
from admin_web.i18n import gettext as _
from admin_web.i18n import ngettext
from admin_web.incident_demos.play import play_breach, play_media_loss
from admin_web.security_headers import no_store
from admin_web.views.operator_forms import tenant_choices, tenants_of_form
from admin_web.views.site_common import Form, actor

bp = Blueprint("operator_demo", __name__, url_prefix="/operator/demo")
no_store(bp)


def demo_mode() -> bool:
    return bool(runtime().settings.mode == "demo")


@bp.before_request
def only_in_demo_mode() -> None:
    if not demo_mode():
        abort(404)


@bp.app_context_processor
def _demo_flag() -> dict[str, Any]:
    return {"demo_mode": demo_mode}


@bp.get("/")
@roles_required("operator")
def index() -> str:
    """What can be played, and where each walk-through starts."""
    return render_template("incident/demo.html", tenants=tenant_choices(), form=None)


@bp.post("/media-loss")
@roles_required("operator")
def media_loss() -> Any:
    """The backup fault for the chosen companies: their media is deleted, rows kept."""
    form = Form(request.form)
    chosen = tenants_of_form(form, request.form.getlist("tenants"))
    if not chosen:
        form.errors["tenants"] = _("Choose at least one company.")
        page = render_template("incident/demo.html", tenants=tenant_choices(), form=form)
        return page, 422
    slugs, names = [t.slug for t in chosen], ", ".join(t.name for t in chosen)
    who = actor()
    _end_request_session()
    played = play_media_loss(runtime(), who, slugs)
    lost = sum(played.deleted.values())
    flash(
        ngettext(
            "The backup fault is played: %(n)s file deleted (%(names)s).",
            "The backup fault is played: %(n)s files deleted (%(names)s).",
            lost,
            names=names,
        ),
        "success",
    )
    return redirect(url_for("operator_notify.recovery_page", tenant=slugs[0]))


@bp.post("/breach")
@roles_required("operator")
def breach() -> Response:
    """The account takeover, up to the fraud calls; the operator takes it from there."""
    _end_request_session()
    out_dir = Path(runtime().settings.data_dir) / "demo-breach"
    played = play_breach(runtime(), out_dir)
    flash(
        _(
            "The account takeover is played: %(who)s signed in from %(ip)s and forwarded "
            "abroad (%(number)s). Run the fraud scan.",
            who=", ".join(played.victims),
            ip=played.attacker_ip,
            number=played.fraud_number,
        ),
        "success",
    )
    return redirect(url_for("operator.index"))


def _end_request_session() -> None:
    """Commit and close the request's session: the play runs in its own units of work (on
    SQLite the request's write transaction would hold the lock they need)."""
    session = g.pop("db", None)
    if session is not None:
        try:
            session.commit()
        finally:
            session.close()
