"""The start page and the language switch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from admin_web.audit_words import AuditWords, wanted_names
from admin_web.auth import current_account, current_actor, roles_required
from admin_web.db import db
from admin_web.i18n import LANGUAGES, gettext
from admin_web.views.media_support import blobs
from admin_web.views.site_common import OPERATOR_TENANT_KEY
from pbx import start_page
from pbx.services.audit import names as audit_names
from pbx.services.audit import query as audit_query
from storage.models import Tenant

bp = Blueprint("home", __name__)
RECENT_CHANGES = 5


@bp.app_context_processor
def _administered() -> dict[str, Any]:
    """The company an operator is administering, for the header and the title (item 5)."""
    chosen = session.get(OPERATOR_TENANT_KEY)
    if chosen is None or not current_user.is_authenticated:
        return {"administered": None}
    if current_account().role != "operator":
        return {"administered": None}
    return {"administered": db().get(Tenant, chosen)}


@bp.get("/")
def index() -> str:
    """The start page: what matters now for the signed-in role (item 4)."""
    if not current_user.is_authenticated:
        return render_template("home.html", role=None)
    account = current_account()
    if account.role == "operator":
        facts = start_page.operator_facts(db(), blobs())
        return render_template("home.html", role="operator", facts=facts)
    tenant = db().get(Tenant, account.tenant_id)
    if account.role == "company_admin" and tenant is not None:
        facts = start_page.company_facts(db(), blobs(), tenant.id)
        return render_template(
            "home.html", role="company_admin", facts=facts, tenant=tenant, recent=_recent()
        )
    facts = start_page.user_facts(db(), blobs(), account.id)
    return render_template("home.html", role="user", facts=facts, tenant=tenant, me=account)


def _recent() -> list[Any]:
    actor = current_actor()
    events = audit_query.list_events(db(), actor, limit=RECENT_CHANGES)
    words = AuditWords(gettext, audit_names.names(db(), wanted_names(events), actor.tenant_id))
    return [words.line(e) for e in events]


@bp.post("/administering/leave")
@roles_required("operator")
def leave() -> Response:
    """An operator stops administering a company (back to the list of companies)."""
    session.pop(OPERATOR_TENANT_KEY, None)
    return redirect(url_for("site_company.choose"))


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page links; the site's icon is an SVG
    (a few hundred bytes, sent from memory: no file left open by an unread response)."""
    icon = Path(current_app.static_folder or "", "favicon.svg").read_bytes()
    return Response(icon, mimetype="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@bp.post("/language")
def set_language() -> Response:
    """Switch the interface language (Swedish or English)."""
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    target = request.form.get("next", "")
    return redirect(
        target if target.startswith("/") and not target.startswith("//") else url_for("home.index")
    )
