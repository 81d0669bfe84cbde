"""Media by id: message audio, voicemail, pictures, and text-to-speech previews.

Only the owning company (and operators) can fetch an object: anything else is 404, exactly
like an id that does not exist (scoping lives in `pbx.services.common.scope`). The bytes are checked
against their hash before they are sent; lost or damaged media is 410, never sent.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from werkzeug.wrappers import Response

from admin_web.auth import current_actor, login_required
from admin_web.db import db
from admin_web.ratelimit import rate_limit
from admin_web.views.media_support import blobs, media_error_text, send_media, tts
from pbx.media.errors import MediaError
from pbx.media.wav import MASTER_CONTENT_TYPE
from pbx.services.library import files as media_files
from pbx.services.library.files import MediaFile, MediaGone
from pbx.services.people import profile_pictures

bp = Blueprint("media", __name__, url_prefix="/media")


@bp.errorhandler(MediaGone)
def _gone(exc: MediaGone) -> tuple[str, int]:
    message = "The audio or picture of this item is missing; record or upload it again."
    return render_template("error.html", status=410, message=message), 410


@bp.get("/versions/<version_id>")
@login_required
def version(version_id: str) -> Response:
    """One version of a message (to compare before restoring it)."""
    return send_media(media_files.version_audio(db(), blobs(), current_actor(), version_id))


@bp.get("/slots/<slot_id>")
@login_required
def slot(slot_id: str) -> Response:
    """A message's current audio ("Spela upp")."""
    return send_media(media_files.slot_audio(db(), blobs(), current_actor(), slot_id))


@bp.get("/voicemail/<message_id>")
@login_required
def voicemail(message_id: str) -> Response:
    """A received voicemail message."""
    return send_media(media_files.voicemail_audio(db(), blobs(), current_actor(), message_id))


@bp.get("/pictures/<picture_id>")
@login_required
def picture(picture_id: str) -> Response:
    return send_media(profile_pictures.picture_file(db(), blobs(), current_actor(), picture_id))


@bp.get("/users/<user_id>/picture")
@login_required
def user_picture(user_id: str) -> Response:
    """A user's current picture, or a placeholder with their initials."""
    return send_media(profile_pictures.user_picture(db(), blobs(), current_actor(), user_id))


@bp.get("/tts-preview")
@login_required
@rate_limit("30 per minute; 300 per hour", methods=("GET",))
def tts_preview() -> Response:
    """Hear text-to-speech before saving it (nothing is stored)."""
    text = request.args.get("text", "")
    language = request.args.get("language", "sv")
    try:
        spoken = tts().synthesise(text, language)
    except MediaError as exc:
        abort(Response(media_error_text(exc), status=400, mimetype="text/plain"))
    return send_media(MediaFile(spoken.wav, MASTER_CONTENT_TYPE, "preview.wav"))
