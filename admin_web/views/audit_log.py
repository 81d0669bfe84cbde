"""The audit log page: company admins see their company's entries, operators all."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from admin_web.auth import current_actor, roles_required
from admin_web.db import db
from admin_web.request_values import parse_id
from pbx.services.audit import query as audit_query

bp = Blueprint("audit_log", __name__)


@bp.get("/audit")
@roles_required("operator", "company_admin")
def index() -> str:
    """The newest entries, a page at a time."""
    before = parse_id(request.args.get("before"))
    action = request.args.get("action", "")[:60]
    events = audit_query.list_events(db(), current_actor(), before_id=before, action_prefix=action)
    older = events[-1].id if len(events) == audit_query.PAGE_SIZE else None
    return render_template("auth/audit_log.html", events=events, older=older, action=action)
