""" "Spela in filen": the page of the notice's steps 6–12. The number field holds the user's
own registered number (E.164, `+46735xxxxxx`; other numbers are refused), the script text is
shown to read from, and "Initiera samtal" has the switchboard call that number: a real phone
registered for the user's extension (or their mobile, through the trunk) when there is one,
otherwise the softphone on the page rings. Changing the registered number needs
re-authentication (SECURITY.md 16).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from admin_web.auth import current_account, reauth_required, roles_required
from admin_web.db import db, runtime
from admin_web.i18n import gettext as _
from admin_web.ratelimit import rate_limit
from admin_web.views import softphone
from admin_web.views.library import ADMINS, bp, scoped_slot
from admin_web.views.media_support import blobs
from admin_web.views.site_common import Form, actor, error_text, render_form
from pbx.errors import NotFound, ValidationError
from pbx.services.calls import live as live_calls
from pbx.services.calls import phone_callbacks
from pbx.services.library import messages as library
from pbx.services.people import callback_number


@bp.route("/<slot_id>/record", methods=["GET", "POST"])
@roles_required(*ADMINS)
@rate_limit("20 per minute; 100 per hour")
def record(slot_id: str) -> Any:
    """Enter your number and "Initiera samtal"; then answer on the softphone below."""
    slot = scoped_slot(slot_id)
    form = Form(request.form)
    if request.method == "POST":
        try:
            number, me = form.text("number"), current_account()
            call = live_calls.start_callback(db(), blobs(), actor(), me, slot, number)
            trunk = bool(runtime().settings.trunk_address)
            phone_callbacks.hand_over(db(), call, trunk=trunk)  # a real phone rings, if any
            return redirect(url_for(".record", slot_id=slot.id, call=call.id))
        except ValidationError as exc:
            form.errors["number"] = error_text(exc)
    return render_form("library/record.html", form, **_context(slot))


def _context(slot: Any) -> dict[str, Any]:
    row = library.message_row(db(), blobs(), slot)
    call = None
    token = request.args.get("call", "")
    if token:
        try:
            call = live_calls.load(db(), actor(), token)
        except NotFound:
            call = None
    on_phone = call is not None and call.status in phone_callbacks.ON_PHONE_STATUSES
    return {"row": row, "account": current_account(), "call": call, "on_phone": on_phone}


@softphone.bp.route("/number", methods=["GET", "POST"])
@roles_required(*softphone.PEOPLE)
@reauth_required
def number() -> Any:
    """Change the number the switchboard calls you on (re-authenticated)."""
    form = Form(request.form)
    back = request.values.get("next", "")
    if request.method == "POST":
        try:
            callback_number.change_number(db(), actor(), current_account(), form.text("number"))
            flash(_("Your registered number is changed."), "success")
            return _back(back)
        except ValidationError as exc:
            form.errors["number"] = error_text(exc)
    return render_form("library/number.html", form, account=current_account(), back=back)


def _back(target: str) -> Response:
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("softphone.index"))
