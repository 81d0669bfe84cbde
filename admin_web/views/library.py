"""Organisation / Röstmeddelanden / Röstmeddelanden: the company's message library.

The list shows every message with a red cross where its audio is missing; clicking a message
shows it (play, where it is used, its versions) and "Redigera" opens the edit page with the
three ways to give it audio: "Spela in filen" (record by phone, in softphone.py), text-to-
speech and upload (library_audio.py). Deleting is guarded; the page repeats the notice's
advice not to delete messages while recovering.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from admin_web.auth import roles_required
from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.views import library_present as present
from admin_web.views.media_support import blobs, media_error_text
from admin_web.views.site_common import (
    FORM_ERROR_STATUS,
    Form,
    actor,
    render_form,
    site_object,
    site_tenant,
)
from pbx.errors import Conflict, NotFound, ValidationError
from pbx.services.library import bulk_tts as library_bulk
from pbx.services.library import messages as library
from storage.models import MessageSlot

bp = Blueprint("library", __name__, url_prefix="/library")
ADMINS = ("company_admin", "operator")


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return present.LABELS | {"has_endpoint": lambda name: name in current_app.view_functions}


@bp.app_template_filter("clip_length")
def clip_length(milliseconds: int | None) -> str:
    """A recording's length as m:ss, rounded to the nearest second (half a second up); a
    sound shorter than that still reads "0:01", never "0:00"."""
    milliseconds = milliseconds or 0
    seconds = max((milliseconds + 500) // 1000, 1 if milliseconds > 0 else 0)
    return f"{seconds // 60}:{seconds % 60:02d}"


def scoped_slot(slot_id: str, *, deleted: bool = False) -> MessageSlot:
    """A message of the administered company (another company's, or deleted: 404)."""
    slot = site_object(MessageSlot, slot_id)
    if (slot.deleted_at is not None) != deleted:
        raise NotFound(f"MessageSlot {slot_id} not found")
    return slot


def to_message(slot: MessageSlot, page: str = ".show") -> Response:
    return redirect(url_for(page, slot_id=slot.id))


@bp.get("/")
@roles_required(*ADMINS)
def index() -> str:
    """Every message, a red cross where the audio is missing; `missing=1` shows only those."""
    tenant = site_tenant()
    missing_only = request.args.get("missing") == "1"
    shown = library.library(db(), blobs(), tenant.id, missing_only=missing_only)
    return render_template(
        "library/index.html",
        library=shown,
        rows=[present.row(r) for r in shown.rows],
        missing_only=missing_only,
        deleted=library.deleted_messages(db(), tenant.id),
        tenant=tenant,
        form=None,
        greetings=library_bulk.missing_greetings(db(), blobs(), tenant.id),
        bulk=_bulk_outcome(tenant.id),
    )


def _bulk_outcome(tenant_id: int) -> library_bulk.Outcome | None:
    """After "make every missing message": what was made (`made`, the ids its batches
    returned) and what still needs a recording."""
    made = request.args.get("made")
    if made is None:
        return None
    ids = {int(i) for i in made.split(",") if i.isdigit() and len(i) < 12}
    return library_bulk.outcome(db(), blobs(), tenant_id, ids)


@bp.post("/")
@roles_required(*ADMINS)
def create() -> Any:
    """A new message (kind, name, language, script); audio is given on its edit page."""
    tenant = site_tenant()
    form = Form(request.form)
    try:
        slot = library.create_message(db(), actor(), tenant, **_fields(form, with_kind=True))
    except ValidationError as exc:
        form.fail(exc)
        shown = library.library(db(), blobs(), tenant.id)
        rows = [present.row(r) for r in shown.rows]
        return render_form(
            "library/index.html", form, library=shown, rows=rows, missing_only=False,
            deleted=library.deleted_messages(db(), tenant.id), tenant=tenant,
        )  # fmt: skip
    flash(_("The message is created. Give it audio below."), "success")
    return to_message(slot, ".edit")


def _fields(form: Form, *, with_kind: bool = False) -> dict[str, Any]:
    values = {
        "name": form.text("name"),
        "language": form.text("language", "sv"),
        "script_text": form.text("script_text"),
    }
    return values | ({"kind": form.text("kind")} if with_kind else {})


@bp.get("/<slot_id>")
@roles_required(*ADMINS)
def show(slot_id: str) -> str:
    """One message: play it, where it is used, its versions (restore an older one)."""
    slot = scoped_slot(slot_id)
    row = library.message_row(db(), blobs(), slot)
    versions = library.versions(db(), blobs(), slot)
    return render_template("library/show.html", row=present.row(row), versions=versions)


@bp.route("/<slot_id>/edit", methods=["GET", "POST"])
@roles_required(*ADMINS)
def edit(slot_id: str) -> Any:
    """ "Redigera": name, language and script, and the three ways to give it audio."""
    slot = scoped_slot(slot_id)
    form = Form(request.form)
    if request.method == "POST":
        try:
            library.update_message(db(), actor(), slot, **_fields(form))
            flash(_("Saved."), "success")
            return to_message(slot, ".edit")
        except ValidationError as exc:
            form.fail(exc)
    return edit_page(slot, form)


def edit_page(slot: MessageSlot, form: Form | None = None, **forms: Form) -> Any:
    """The edit page; with any form's errors it answers 422 (nothing is committed)."""
    row = present.row(library.message_row(db(), blobs(), slot))
    preview = present.tts_preview(request.args, slot.language)
    failed = any(f is not None and f.errors for f in (form, *forms.values()))
    page = render_template(
        "library/edit.html", form=form, row=row, preview=preview,
        tts_form=forms.get("tts_form"), upload_form=forms.get("upload_form"),
    )  # fmt: skip
    return page, FORM_ERROR_STATUS if failed else 200


@bp.post("/<slot_id>/versions/<version_id>/restore")
@roles_required(*ADMINS)
def restore(slot_id: str, version_id: str) -> Response:
    """Roll back to an older version (the pointer moves; nothing is deleted)."""
    slot = scoped_slot(slot_id)
    if not version_id.isdigit():
        abort(404)
    try:
        library.restore_version(db(), blobs(), actor(), slot, int(version_id))
    except Conflict as exc:
        flash(media_error_text(exc), "error")
        return to_message(slot)
    flash(_("The older version is in use again."), "success")
    return to_message(slot)


@bp.post("/<slot_id>/delete")
@roles_required(*ADMINS)
def delete(slot_id: str) -> Any:
    """Soft delete (undo for 30 days); refused while the message is used anywhere."""
    slot = scoped_slot(slot_id)
    try:
        library.delete_message(db(), actor(), slot)
    except library.MessageInUse as exc:
        form = Form({}, {"delete": media_error_text(exc)})
        return edit_page(slot, form)
    flash(_("The message is deleted. You can undo this for 30 days."), "success")
    return redirect(url_for(".index"))


@bp.post("/<slot_id>/undelete")
@roles_required(*ADMINS)
def undelete(slot_id: str) -> Response:
    """Bring back a deleted message (within 30 days)."""
    slot = scoped_slot(slot_id, deleted=True)
    try:
        library.undo_delete(db(), actor(), slot)
    except Conflict as exc:
        flash(media_error_text(exc), "error")
        return redirect(url_for(".index"))
    flash(_("The message is back."), "success")
    return to_message(slot)
