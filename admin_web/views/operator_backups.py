"""The operator's backup page: the last restore drill of every company (issue 7).

Drills run from the command line (`pbx backup drill BACKUP`, e.g. nightly from cron): they
restore a backup into a scratch location and make a test call through every number and IVR
option. This page is where the operator sees, per company, whether the newest backup was
proven restorable, and when.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from admin_web.auth import roles_required
from admin_web.db import db
from admin_web.security_headers import no_store
from pbx.services.backups.drill_results import drill_status

bp = Blueprint("operator_backups", __name__, url_prefix="/operator")


no_store(bp)


@bp.get("/drills")
@roles_required("operator")
def drills() -> str:
    """Per company: the newest drill's verdict, date, backup, test calls and problems."""
    return render_template("incident/drills.html", companies=drill_status(db()))
