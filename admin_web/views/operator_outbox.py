"""Utkorgen: the messages the switchboard queued (to, subject, when, sent or not), for
operators. In the demo site (`PBX_MODE=demo`) a new user's setup link is shown beside its
message, so the first login of a new user can be tried without a mail server (issue 16
item 14); elsewhere links stay in the messages."""

from __future__ import annotations

from flask import Blueprint, render_template

from admin_web.auth import roles_required
from admin_web.db import db
from admin_web.security_headers import no_store
from admin_web.views.operator_demo import demo_mode
from admin_web.views.site_common import actor
from pbx.services.accounts import outbox

bp = Blueprint("operator_outbox", __name__, url_prefix="/operator/outbox")
no_store(bp)


@bp.get("/")
@roles_required("operator")
def index() -> str:
    """The newest messages of the outbox."""
    demo = demo_mode()
    lines = outbox.recent(db(), actor(), setup_links=demo)
    return render_template("incident/outbox.html", lines=lines, demo=demo, limit=outbox.LIMIT)
