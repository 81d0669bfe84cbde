"""Mina inställningar / Stör ej: a user switches do-not-disturb on or off (also possible
from their phone with *76); company admins see who is on do-not-disturb and may switch it
off for them (Organisation / Stör ej)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from admin_web.auth import current_account, roles_required
from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.views.site_common import actor, site_object, site_tenant
from pbx.engine.presence import DND_CODE
from pbx.services.people import presence
from storage.models import User

bp = Blueprint("site_presence", __name__, url_prefix="/presence")
PEOPLE = ("company_admin", "user")
ADMINS = ("company_admin", "operator")


@bp.get("/")
@roles_required(*PEOPLE)
def mine() -> Any:
    """The signed-in user's do-not-disturb switch."""
    return render_template("site/presence.html", me=current_account(), code=DND_CODE)


@bp.post("/")
@roles_required(*PEOPLE)
def switch() -> Response:
    me = current_account()
    presence.set_dnd(db(), actor(), me, not me.dnd)
    flash(_("Do not disturb is on.") if me.dnd else _("Do not disturb is off."), "success")
    return redirect(url_for(".mine"))


@bp.get("/company")
@roles_required(*ADMINS)
def company() -> Any:
    """Every user with an extension and whether they are on do-not-disturb (those on it
    first)."""
    tenant = site_tenant()
    stmt = select(User).where(User.tenant_id == tenant.id, User.extension.is_not(None))
    people = sorted(db().scalars(stmt), key=lambda u: (not u.dnd, u.extension or ""))
    return render_template("site/presence_company.html", people=people, code=DND_CODE)


@bp.post("/company/<user_id>/off")
@roles_required(*ADMINS)
def switch_off(user_id: str) -> Response:
    """An admin switches a user's do-not-disturb off (audited)."""
    user = site_object(User, user_id)
    presence.set_dnd(db(), actor(), user, False)
    flash(_("Do not disturb is off for %(name)s.", name=user.name), "success")
    return redirect(url_for(".company"))
