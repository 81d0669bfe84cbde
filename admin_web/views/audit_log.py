"""The audit log page: company admins see their company's entries, operators all."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from admin_web.audit_words import SUBJECT_LABELS, WORDS, AuditWords, fraud_reason, wanted_names
from admin_web.auth import current_actor, roles_required
from admin_web.db import db
from admin_web.i18n import gettext
from admin_web.request_values import parse_id
from pbx.services.audit import names as audit_names
from pbx.services.audit import query as audit_query

bp = Blueprint("audit_log", __name__)


@bp.app_template_filter("word")
def word(code: str | None) -> str:
    """A stored code in the page's language ("not_required" -> "Krävs inte")."""
    return gettext(WORDS[code]) if code in WORDS else (code or "–")


@bp.app_template_filter("fraud_reason")
def fraud_reason_words(text: str | None) -> str:
    """Why a fraud rule acted, stored with the rule's code, as a sentence in the page's
    language ("20 utlandssamtal på en timme från en användare (gränsen är 15)")."""
    return fraud_reason(gettext, text) if text else "–"


@bp.get("/audit")
@roles_required("operator", "company_admin")
def index() -> str:
    """The newest entries, a page at a time."""
    before = parse_id(request.args.get("before"))
    action = request.args.get("action", "")[:60]
    if action and action not in SUBJECT_LABELS:
        action = ""
    prefix = f"{action}." if action else ""
    events = audit_query.list_events(db(), current_actor(), before_id=before, action_prefix=prefix)
    older = events[-1].id if len(events) == audit_query.PAGE_SIZE else None
    actor = current_actor()
    scope = None if actor.is_operator else actor.tenant_id
    words = AuditWords(gettext, audit_names.names(db(), wanted_names(events), scope))
    lines = [words.line(e) for e in events]
    return render_template(
        "auth/audit_log.html", lines=lines, older=older, action=action, subjects=SUBJECT_LABELS
    )
