"""Giving a message audio on the web: upload a file, save text-to-speech, and regenerate
every missing message with text-to-speech in batches (progress shown). Registered on the
library blueprint; recording by phone is in softphone.py."""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, request, url_for
from werkzeug.wrappers import Response

from admin_web.auth import roles_required
from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.ratelimit import rate_limit
from admin_web.views.library import ADMINS, bp, edit_page, scoped_slot, to_message
from admin_web.views.media_support import blobs, media_error_text, tts, uploaded
from admin_web.views.site_common import Form, actor, site_tenant
from pbx.errors import PbxError
from pbx.media.errors import MediaError
from pbx.services.library import bulk_tts as library_bulk
from pbx.services.library import messages as library

BATCH = 10  # messages synthesised per request; the page (or its script) asks for the next


@bp.post("/<slot_id>/upload")
@roles_required(*ADMINS)
@rate_limit("30 per minute; 300 per hour")
def upload(slot_id: str) -> Any:
    """A file (WAV, MP3, OGG, WebM, M4A) becomes the message's new version."""
    slot = scoped_slot(slot_id)
    data = uploaded()
    form = Form(request.form)
    if not data:
        form.errors["file"] = media_error_text(PbxError("", code="no_file"))
        return edit_page(slot, upload_form=form)
    try:
        library.save_audio(db(), blobs(), actor(), slot, data)
    except (MediaError, library.QuotaExceeded) as exc:
        form.errors["file"] = media_error_text(exc)
        return edit_page(slot, upload_form=form)
    flash(_("The file is saved as a new version of the message."), "success")
    return to_message(slot)


@bp.post("/<slot_id>/tts")
@roles_required(*ADMINS)
@rate_limit("30 per minute; 300 per hour")
def save_tts(slot_id: str) -> Any:
    """Text-to-speech as the message's new version (the text becomes its script)."""
    slot = scoped_slot(slot_id)
    form = Form(request.form)
    text, language = form.text("text"), form.text("language", slot.language)
    try:
        library.save_tts(db(), blobs(), tts(), actor(), slot, text, language)
    except (MediaError, library.QuotaExceeded) as exc:
        form.errors["text"] = media_error_text(exc)
        return edit_page(slot, tts_form=form)
    flash(_("The spoken text is saved as a new version of the message."), "success")
    return to_message(slot)


@bp.post("/regenerate")
@roles_required(*ADMINS)
@rate_limit("60 per minute")
def regenerate() -> Response:
    """One batch of text-to-speech for missing messages; JSON for the page's progress bar,
    otherwise back to the list with what is left."""
    tenant = site_tenant()
    result = library_bulk.regenerate_missing(
        db(), blobs(), tts(), actor(), tenant_id=tenant.id, limit=BATCH
    )
    if request.accept_mimetypes.best == "application/json":
        return jsonify(
            done=len(result.regenerated),
            made=[r.slot_id for r in result.regenerated],
            failed=[{"name": r.name, "error": r.error} for r in result.failed],
            remaining=result.remaining,
            needs_recording=len(result.needs_recording),
        )
    _report(result)
    made = ",".join(str(r.slot_id) for r in result.regenerated)
    return redirect(url_for(".index", missing="1", made=made))


def _report(result: library_bulk.Regeneration) -> None:
    """Failures and what is left; what was made is listed on the page (`?made=`)."""
    for failed in result.failed:
        reason = _(failed.error or "")
        flash(_("%(name)s could not be made: %(error)s", name=failed.name, error=reason), "error")
    if result.remaining:
        flash(_("%(n)s more messages are waiting: press the button again.", n=result.remaining))
